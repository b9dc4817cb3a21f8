// Package load is an SMPP 3.4 load generator that works against any SMSC.
//
// It opens K binds, keeps at most W submit_sm outstanding on each, optionally
// caps the global rate, answers deliver_sm and counts delivery receipts, and
// reports throughput and latency. The hot path is a small client written on raw
// TCP: submit_sm is encoded by hand into the write buffer and responses are
// parsed in place, so a message costs no allocation.
package load

import (
	"errors"
	"flag"
	"fmt"
	"time"
)

// Bind types.
const (
	BindTRX = "trx" // bind_transceiver: submits and receipts on one bind
	BindTX  = "tx"  // bind_transmitter; with receipts on, one bind_receiver is opened per transmitter
)

// Config describes one load run. The zero value is not usable: start from
// DefaultConfig (or RegisterFlags) and set Addr, credentials and N or Duration.
type Config struct {
	Addr       string // host:port of the SMSC
	SystemID   string
	Password   string
	SystemType string

	Binds    int           // number of binds (K)
	Window   int           // outstanding submit_sm per bind (W)
	N        int64         // messages to send in total (0: no count limit)
	Duration time.Duration // how long to send (0: no time limit); with N, whichever comes first
	TPS      float64       // global submit_sm/s cap, paced evenly (0: none)

	Receipts    bool          // registered_delivery=1 and wait for receipts
	ReceiptWait time.Duration // after sending, how long to wait for outstanding receipts
	Text        string        // short_message (GSM/ASCII as data_coding 0, otherwise UCS2)
	Dest        string        // destination prefix; a counter is appended
	Source      string        // source address (alphanumeric or digits)
	BindType    string        // "trx" or "tx"

	ConnectTimeout time.Duration // dial + bind_resp
	RespTimeout    time.Duration // a submit_sm without answer after this is counted as timed out; also the write timeout
	JSON           bool          // print the result as one JSON object (used by the CLI)
}

// DefaultConfig returns the defaults used by the flags.
func DefaultConfig() Config {
	return Config{
		Addr:           "127.0.0.1:2775",
		Binds:          1,
		Window:         100,
		Receipts:       true,
		ReceiptWait:    10 * time.Second,
		Text:           "smppload test message",
		Dest:           "4477009000",
		Source:         "LOAD",
		BindType:       BindTRX,
		ConnectTimeout: 5 * time.Second,
		RespTimeout:    10 * time.Second,
	}
}

// RegisterFlags registers the load flags on fs, writing into cfg. Defaults come
// from DefaultConfig.
func RegisterFlags(fs *flag.FlagSet, cfg *Config) {
	d := DefaultConfig()
	fs.StringVar(&cfg.Addr, "addr", d.Addr, "SMSC address host:port")
	fs.StringVar(&cfg.SystemID, "system-id", d.SystemID, "bind system_id")
	fs.StringVar(&cfg.Password, "password", d.Password, "bind password")
	fs.StringVar(&cfg.SystemType, "system-type", d.SystemType, "bind system_type")
	fs.IntVar(&cfg.Binds, "binds", d.Binds, "number of binds")
	fs.IntVar(&cfg.Window, "window", d.Window, "outstanding submit_sm per bind")
	fs.Int64Var(&cfg.N, "n", d.N, "number of submit_sm to send in total")
	fs.DurationVar(&cfg.Duration, "duration", d.Duration, "send for this long (with -n: whichever comes first)")
	fs.Float64Var(&cfg.TPS, "tps", d.TPS, "global submit_sm/s cap, paced evenly (0: unlimited)")
	fs.BoolVar(&cfg.Receipts, "receipts", d.Receipts, "request delivery receipts (registered_delivery=1) and wait for them")
	fs.DurationVar(&cfg.ReceiptWait, "receipt-wait", d.ReceiptWait, "after sending, wait this long at most for outstanding receipts")
	fs.StringVar(&cfg.Text, "text", d.Text, "message text")
	fs.StringVar(&cfg.Dest, "dest", d.Dest, "destination prefix; a counter is appended")
	fs.StringVar(&cfg.Source, "source", d.Source, "source address")
	fs.StringVar(&cfg.BindType, "bind-type", d.BindType, "trx or tx (tx opens one receiver per transmitter when receipts are on)")
	fs.DurationVar(&cfg.ConnectTimeout, "connect-timeout", d.ConnectTimeout, "timeout for dial and bind_resp")
	fs.DurationVar(&cfg.RespTimeout, "resp-timeout", d.RespTimeout, "count a submit_sm as timed out after this long without submit_sm_resp")
	fs.BoolVar(&cfg.JSON, "json", d.JSON, "print the result as one JSON object")
}

// Validate names what is wrong with the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("addr is required"))
	}
	if c.Binds < 1 {
		errs = append(errs, fmt.Errorf("binds %d: want at least 1", c.Binds))
	}
	if c.Window < 1 || c.Window > 1<<16 {
		errs = append(errs, fmt.Errorf("window %d: want 1..65536", c.Window))
	}
	if c.N < 0 {
		errs = append(errs, fmt.Errorf("n %d: want >= 0", c.N))
	}
	if c.Duration < 0 {
		errs = append(errs, fmt.Errorf("duration %s: want >= 0", c.Duration))
	}
	if c.N == 0 && c.Duration == 0 {
		errs = append(errs, errors.New("one of -n or -duration is required"))
	}
	if c.TPS < 0 {
		errs = append(errs, fmt.Errorf("tps %g: want >= 0", c.TPS))
	}
	if c.BindType != BindTRX && c.BindType != BindTX {
		errs = append(errs, fmt.Errorf("bind-type %q: want trx or tx", c.BindType))
	}
	if len(c.Source) > 20 {
		errs = append(errs, fmt.Errorf("source %q: at most 20 characters", c.Source))
	}
	if len(c.Dest) > 19 {
		errs = append(errs, fmt.Errorf("dest %q: at most 19 characters, to leave room for the counter", c.Dest))
	}
	if c.ReceiptWait < 0 || c.ConnectTimeout <= 0 || c.RespTimeout <= 0 {
		errs = append(errs, errors.New("receipt-wait must be >= 0, connect-timeout and resp-timeout > 0"))
	}
	if _, err := newTemplate(c); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
