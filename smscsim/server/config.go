package server

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/smpp-connector/smpp-connector/smscsim/meter"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
)

// Config is the simulator's configuration (YAML).
type Config struct {
	// Seed makes every random decision repeatable; 0 picks 1.
	Seed uint64 `yaml:"seed"`
	// RecorderSize bounds the received-PDU recorder (default 10000; 0 keeps the default, -1 disables).
	RecorderSize int `yaml:"recorderSize"`
	// MeterWindow is how the TPS audit counts: sliding (default) or fixed.
	MeterWindow string           `yaml:"meterWindow"`
	Operators   []OperatorConfig `yaml:"operators"`
}

// OperatorConfig is one virtual SMSC with its own listener.
type OperatorConfig struct {
	ID string `yaml:"id"`
	// Listen is host:port; port 0 picks a free port (kept across outages).
	Listen string `yaml:"listen"`
	// SystemID is what bind_resp reports (default "smscsim").
	SystemID string          `yaml:"systemId"`
	Profile  profile.Profile `yaml:"profile"`
	Accounts []AccountConfig `yaml:"accounts"`
	// DeliverWindow bounds unacknowledged deliver_sm per bind (default 100).
	DeliverWindow int `yaml:"deliverWindow"`
	// ReceiptQueue bounds receipts/MO waiting for a receiver, per account (default 100000).
	ReceiptQueue int `yaml:"receiptQueue"`
	// MessageStore bounds the messages kept for query_sm/cancel_sm/replace_sm (default 100000).
	MessageStore int `yaml:"messageStore"`
	// TLS makes the listener speak TLS; absent, it is plaintext.
	TLS *TLSConfig `yaml:"tls"`
}

// TLSConfig is an operator listener's TLS (crypto/tls, TLS 1.2 and up).
type TLSConfig struct {
	// CertFile and KeyFile are the server certificate (chain) and its key, PEM.
	CertFile string `yaml:"certFile"`
	KeyFile  string `yaml:"keyFile"`
	// ClientCAFile, when set, asks for a client certificate and accepts only
	// one signed by a CA in this PEM file (mutual TLS).
	ClientCAFile string `yaml:"clientCAFile"`
	// Config is used as is instead of the files (tests in-process: see
	// smscsim/tlstest).
	Config *tls.Config `yaml:"-"`
}

// build loads the files into a tls.Config.
func (c *TLSConfig) build() (*tls.Config, error) {
	if c.Config != nil {
		return c.Config, nil
	}
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("certFile/keyFile: %w", err)
	}
	conf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if c.ClientCAFile != "" {
		b, err := os.ReadFile(c.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("clientCAFile: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("clientCAFile %s: no PEM certificate in it", c.ClientCAFile)
		}
		conf.ClientCAs, conf.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return conf, nil
}

// AccountConfig is an ESME account on an operator.
type AccountConfig struct {
	SystemID string `yaml:"systemId"`
	// Password, or Passwords during a rotation overlap (every one is accepted).
	Password   string   `yaml:"password"`
	Passwords  []string `yaml:"passwords"`
	SystemType string   `yaml:"systemType"`
	// MaxBinds limits concurrent binds; more are answered ESME_RALYBND (0 = unlimited).
	MaxBinds int `yaml:"maxBinds"`
	// TPS is the contracted rate the meter audits (0 = no contract).
	TPS int `yaml:"tps"`
}

// DemoConfig is what `smscsim serve` runs with no config: one operator on
// 127.0.0.1:2775 accepting test/test.
func DemoConfig() Config {
	return Config{Operators: []OperatorConfig{{
		ID: "demo", Listen: "127.0.0.1:2775",
		Accounts: []AccountConfig{{SystemID: "test", Password: "test"}},
	}}}
}

// LoadConfig reads and validates a YAML file.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(b)
}

// ParseConfig decodes YAML strictly (unknown fields are errors) and validates.
func ParseConfig(b []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("parse config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate names the operator and field of the first problem.
func (c *Config) Validate() error {
	if _, err := meter.ParseMode(c.MeterWindow); err != nil {
		return fmt.Errorf("meterWindow: %w", err)
	}
	if len(c.Operators) == 0 {
		return fmt.Errorf("operators: at least one operator is required")
	}
	seen := map[string]bool{}
	for i, op := range c.Operators {
		where := fmt.Sprintf("operators[%d]", i)
		if op.ID == "" {
			return fmt.Errorf("%s.id: required", where)
		}
		where = fmt.Sprintf("operator %q", op.ID)
		if seen[op.ID] {
			return fmt.Errorf("%s: id used twice", where)
		}
		seen[op.ID] = true
		if _, _, err := net.SplitHostPort(op.Listen); err != nil {
			return fmt.Errorf("%s: listen %q: want host:port", where, op.Listen)
		}
		if err := op.Profile.Validate(); err != nil {
			return fmt.Errorf("%s: profile.%w", where, err)
		}
		if t := op.TLS; t != nil && t.Config == nil {
			switch {
			case t.CertFile == "":
				return fmt.Errorf("%s: tls.certFile: required", where)
			case t.KeyFile == "":
				return fmt.Errorf("%s: tls.keyFile: required", where)
			}
		}
		if op.DeliverWindow < 0 || op.ReceiptQueue < 0 || op.MessageStore < 0 {
			return fmt.Errorf("%s: deliverWindow, receiptQueue and messageStore must not be negative", where)
		}
		if len(op.Accounts) == 0 {
			return fmt.Errorf("%s: accounts: at least one account is required", where)
		}
		ids := map[string]bool{}
		for j, a := range op.Accounts {
			if a.SystemID == "" {
				return fmt.Errorf("%s: accounts[%d].systemId: required", where, j)
			}
			if len(a.SystemID) > 15 {
				return fmt.Errorf("%s: account %q: systemId longer than SMPP's 15 characters", where, a.SystemID)
			}
			if ids[a.SystemID] {
				return fmt.Errorf("%s: account %q: systemId used twice", where, a.SystemID)
			}
			ids[a.SystemID] = true
			if a.Password == "" && len(a.Passwords) == 0 {
				return fmt.Errorf("%s: account %q: password or passwords required", where, a.SystemID)
			}
			for _, p := range append([]string{a.Password}, a.Passwords...) {
				if len(p) > 8 {
					return fmt.Errorf("%s: account %q: password longer than SMPP's 8 characters", where, a.SystemID)
				}
			}
			if a.MaxBinds < 0 || a.TPS < 0 {
				return fmt.Errorf("%s: account %q: maxBinds and tps must not be negative", where, a.SystemID)
			}
		}
	}
	return nil
}

func (a AccountConfig) passwords() []string {
	if a.Password != "" {
		return append([]string{a.Password}, a.Passwords...)
	}
	return a.Passwords
}

func (o *OperatorConfig) withDefaults() {
	if o.SystemID == "" {
		o.SystemID = "smscsim"
	}
	if o.DeliverWindow == 0 {
		o.DeliverWindow = 100
	}
	if o.ReceiptQueue == 0 {
		o.ReceiptQueue = 100000
	}
	if o.MessageStore == 0 {
		o.MessageStore = 100000
	}
	o.Profile = o.Profile.WithDefaults()
}
