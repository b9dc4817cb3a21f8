package server

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
	"github.com/smpp-connector/smpp-connector/smscsim/tlstest"
)

// handshakeFailures is how many TLS handshakes the operator refused.
func handshakeFailures(s *Sim) uint64 { return s.Stats().Sum("op", "", "tls_handshake", "failed") }

func waitHandshakeFailures(t *testing.T, s *Sim, n uint64) {
	t.Helper()
	smpptest.Eventually(t, wait, 10*time.Millisecond, func() error {
		if got := handshakeFailures(s); got != n {
			return fmt.Errorf("%d tls handshake failures, want %d", got, n)
		}
		return nil
	})
}

func TestTLSListenerInMemory(t *testing.T) {
	ca, cert := tlstest.New(t)
	s, addr := start(t, profile.Profile{}, func(c *Config) {
		c.Operators[0].TLS = &TLSConfig{Config: tlstest.ServerConfig(cert)}
	})
	if op, _ := s.Operator("op"); !op.TLS() {
		t.Fatal("operator does not report TLS")
	}
	c := smpptest.DialTLS(t, addr, ca.ClientConfig("127.0.0.1"))
	if r := c.Bind(pdu.Transceiver, "test", "test"); r.CommandStatus != data.ESME_ROK {
		t.Fatalf("bind over TLS: %s", status(r))
	}
	c.Submit("447700900123", "over tls", 1)
	c.Expect(data.SUBMIT_SM_RESP, wait)
	d := c.Expect(data.DELIVER_SM, wait).(*pdu.DeliverSM)
	if !strings.Contains(receiptText(d), "text:over tls") {
		t.Fatalf("receipt %q", receiptText(d))
	}
	c.AckDeliver(d, 0)
	c.ExpectQuiet(wait)

	// A client that does not trust the CA refuses the server; the server
	// sees the handshake fail.
	if _, err := smpptest.TryDialTLS(addr, tlstest.NewCA(t).ClientConfig("127.0.0.1")); !errors.As(err, new(x509.UnknownAuthorityError)) {
		t.Fatalf("untrusted server accepted: %v", err)
	}
	waitHandshakeFailures(t, s, 1)
	// A plaintext bind gets nothing back and is counted.
	plain := smpptest.Dial(t, addr)
	b := pdu.NewBindRequest(pdu.Transceiver)
	b.SystemID, b.Password = "test", "test"
	plain.Send(b)
	if p, err := plain.Read(wait); err == nil {
		t.Fatalf("plaintext bind answered with %T", p)
	}
	waitHandshakeFailures(t, s, 2)
}

// The files a `smscsim serve --config` reads, with mutual TLS: a client
// certificate signed by the client CA binds, one without is refused.
func TestTLSListenerFromYAMLWithClientCA(t *testing.T) {
	dir := t.TempDir()
	ca, cert := tlstest.New(t)
	certFile, keyFile := cert.WriteFiles(t, dir, "server")
	clientCA := tlstest.NewCA(t)
	clientCAFile := clientCA.WriteFile(t, dir)
	cfg, err := ParseConfig([]byte(fmt.Sprintf(`
operators:
  - id: op
    listen: 127.0.0.1:0
    tls: {certFile: %s, keyFile: %s, clientCAFile: %s}
    accounts: [{systemId: test, password: test}]
`, certFile, keyFile, clientCAFile)))
	if err != nil {
		t.Fatal(err)
	}
	s, addr := start(t, profile.Profile{}, func(c *Config) { *c = cfg })

	good := ca.ClientConfig("localhost")
	good.Certificates = append(good.Certificates, clientCA.Issue(t, "esme").TLS)
	c := smpptest.DialTLS(t, addr, good)
	if r := c.Bind(pdu.Transmitter, "test", "test"); r.CommandStatus != data.ESME_ROK {
		t.Fatalf("bind: %s", status(r))
	}

	// Without a client certificate: TLS 1.3 lets the client finish its side
	// first, so the refusal shows on the server and on the client's next read.
	bad, err := smpptest.TryDialTLS(addr, ca.ClientConfig("localhost"))
	if err == nil {
		t.Cleanup(func() { bad.Close() })
		bad.SetReadDeadline(time.Now().Add(wait))
		if _, err = bad.Read(make([]byte, 1)); err == nil {
			t.Fatal("server answered a client without a certificate")
		}
	}
	waitHandshakeFailures(t, s, 1)
}

func TestTLSConfigErrorsNameTheField(t *testing.T) {
	for want, tc := range map[string]*TLSConfig{
		`operator "op": tls.certFile: required`:     {KeyFile: "k"},
		`operator "op": tls.keyFile: required`:      {CertFile: "c"},
		`operator "op": tls.certFile/keyFile: open`: {CertFile: "/nonexistent/c", KeyFile: "/nonexistent/k"},
	} {
		cfg := Config{Operators: []OperatorConfig{{ID: "op", Listen: "127.0.0.1:0", TLS: tc,
			Accounts: []AccountConfig{{SystemID: "test", Password: "test"}}}}}
		_, err := New(cfg, quietLog())
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("want %q, got %v", want, err)
		}
	}
}
