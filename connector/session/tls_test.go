package session

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
	"github.com/smpp-connector/smpp-connector/smscsim/tlstest"
)

// These tests bind to the simulator's own TLS listener (it speaks nothing
// but TLS: a plaintext bind_transceiver gets no bind_resp), with a CA made
// in the test.

// startTLSSim runs operator "op" (account acme/secret1) on a TLS listener
// serving cert; with clientCA set it wants a client certificate clientCA
// signed (mutual TLS).
func startTLSSim(t *testing.T, cert *tlstest.Cert, clientCA *tlstest.CA) (*server.Sim, string) {
	t.Helper()
	conf := tlstest.ServerConfig(cert)
	if clientCA != nil {
		conf.ClientCAs, conf.ClientAuth = clientCA.Pool(), tls.RequireAndVerifyClientCert
	}
	sim := runSim(t, server.OperatorConfig{ID: "op", Listen: "127.0.0.1:0", TLS: &server.TLSConfig{Config: conf},
		Accounts: []server.AccountConfig{{SystemID: "acme", Password: "secret1"}}})
	op, _ := sim.Operator("op")
	if !op.TLS() {
		t.Fatal("the simulator's operator does not listen over TLS")
	}
	return sim, op.Addr()
}

// tlsConfig is a bind to addr over TLS trusting ca for serverName, that
// records its failure reasons.
func tlsConfig(addr string, ca *tlstest.CA, serverName string, client ...tls.Certificate) (Config, *reasons) {
	cfg := fastConfig(addr)
	cfg.TLS = func(a string) (*tls.Config, error) {
		if a != addr {
			return nil, nil
		}
		c := ca.ClientConfig(serverName)
		c.Certificates = client
		return c, nil
	}
	r := &reasons{}
	cfg.OnBindFailure = r.add
	return cfg, r
}

// bindAndSubmit starts a bind with cfg, waits until it is bound and submits
// text, which the SMSC must accept.
func bindAndSubmit(t *testing.T, cfg Config, text string) *Bind {
	t.Helper()
	b := NewBind(cfg, "b1", good().get)
	b.Start()
	t.Cleanup(b.Close)
	waitState(t, b, StateBound)
	if r, err := b.Submit(context.Background(), newSubmit(t, text)); err != nil || !r.OK() {
		t.Fatalf("submit %q: %+v %v", text, r, err)
	}
	return b
}

type reasons struct {
	mu  sync.Mutex
	got []string
}

func (r *reasons) add(_, reason string) { r.mu.Lock(); r.got = append(r.got, reason); r.mu.Unlock() }

func (r *reasons) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// A bind to the simulator's TLS listener binds and submits: only TLS gets
// there, so the bind_resp and submit_sm_resp prove the session spoke it.
func TestBindOverTLS(t *testing.T) {
	ca, cert := tlstest.New(t)
	sim, addr := startTLSSim(t, cert, nil)
	cfg, _ := tlsConfig(addr, ca, "127.0.0.1")
	bindAndSubmit(t, cfg, "over TLS")
	if n := sim.Stats().Sum("op", "acme", "submit_sm", ""); n != 1 {
		t.Fatalf("the SMSC saw %d submit_sm, want 1", n)
	}
}

// A certificate from another CA, or for another name, or no client
// certificate where one is required, is refused: the bind stays down with an
// error naming the operator and the endpoint, counted as a TLS failure; the
// SMSC sees the handshake fail and no bind.
func TestTLSRefusals(t *testing.T) {
	ca := tlstest.NewCA(t)
	for _, tc := range []struct {
		name       string
		cert       *tlstest.Cert
		clientCA   *tlstest.CA
		serverName string
		want       string
	}{
		{"certificate of another CA", tlstest.NewCA(t).Issue(t, "rogue", "127.0.0.1"), nil,
			"127.0.0.1", "x509: certificate signed by unknown authority"},
		{"wrong server name", ca.Issue(t, "smsc", "127.0.0.1", "smsc.mno-a.example"), nil,
			"smsc.mno-b.example", "x509: certificate is valid for smsc.mno-a.example, not smsc.mno-b.example"},
		{"client certificate required", ca.Issue(t, "smsc", "127.0.0.1"), ca,
			"127.0.0.1", "remote error: tls: certificate required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim, addr := startTLSSim(t, tc.cert, tc.clientCA)
			cfg, reasons := tlsConfig(addr, ca, tc.serverName)
			b := NewBind(cfg, "b1", good().get)
			b.Start()
			t.Cleanup(b.Close)
			err := waitState(t, b, StateBackoff)
			var te *TLSError
			if !errors.As(err, &te) || te.Operator != "op" || te.Addr != addr {
				t.Fatalf("bind error %v, want a *TLSError for operator op, endpoint %s", err, addr)
			}
			if msg := err.Error(); !strings.Contains(msg, `operator "op" endpoint `+addr+": TLS: ") || !strings.Contains(msg, tc.want) {
				t.Fatalf("bind error %q: want the operator, the endpoint and %q", msg, tc.want)
			}
			if got := reasons.all(); len(got) == 0 || got[0] != BindFailTLS {
				t.Fatalf("failure reasons %v, want %s", got, BindFailTLS)
			}
			smpptest.Eventually(t, 5*time.Second, 10*time.Millisecond, func() error {
				if n := sim.Stats().Sum("op", "", "tls_handshake", "failed"); n < 1 {
					return errors.New("the SMSC has not seen the handshake fail yet")
				}
				return nil
			})
			if n := sim.Stats().Sum("op", "acme", "", ""); n != 0 {
				t.Fatalf("%d PDUs of acme reached the SMSC", n)
			}
		})
	}
}

// Mutual TLS: the client certificate the SMSC's CA signed is presented.
func TestBindOverMutualTLS(t *testing.T) {
	ca, cert := tlstest.New(t)
	_, addr := startTLSSim(t, cert, ca)
	cfg, _ := tlsConfig(addr, ca, "127.0.0.1", ca.Issue(t, "acme").TLS)
	bindAndSubmit(t, cfg, "mutual")
}

// cuttingConn writes half of the first large write once armed, then fails:
// under TLS, the record carrying a submit_sm is cut short.
type cuttingConn struct {
	net.Conn
	armed *atomic.Bool
}

func (c *cuttingConn) Write(p []byte) (int, error) {
	if len(p) > 60 && c.armed.CompareAndSwap(true, false) {
		n, _ := c.Conn.Write(p[:len(p)/2])
		return n, errors.New("injected: connection reset part-way")
	}
	return c.Conn.Write(p)
}

// The wire still knows what reached the SMSC: half a TLS record is nothing
// the SMSC can decrypt, so a submit_sm whose record was cut is not sent
// (safe to send again), where half of it in plaintext would be unknown.
func TestTLSRecordCutShortIsNotSent(t *testing.T) {
	ca, cert := tlstest.New(t)
	sim, addr := startTLSSim(t, cert, nil)
	cfg, _ := tlsConfig(addr, ca, "127.0.0.1")
	var armed atomic.Bool
	cfg.Dial = func(addr string, timeout time.Duration) (net.Conn, error) {
		c, err := net.DialTimeout("tcp", addr, timeout)
		if err != nil {
			return nil, err
		}
		return &cuttingConn{Conn: c, armed: &armed}, nil
	}
	b := bindAndSubmit(t, cfg, "first")
	armed.Store(true)
	_, err := b.Submit(context.Background(), newSubmit(t, "cut short in its TLS record"))
	if !errors.Is(err, ErrNotSent) {
		t.Fatalf("submit whose TLS record was cut: %v, want ErrNotSent", err)
	}
	if got := sim.Stats().Sum("op", "acme", "submit_sm", ""); got != 1 {
		t.Fatalf("the SMSC saw %d submit_sm, want only the first", got)
	}
}

// The metrics prepare the series of every reason a bind reports.
func TestBindFailReasonsMatchTheMetrics(t *testing.T) {
	if !slices.Equal(BindFailReasons, metrics.BindFailReasons) {
		t.Fatalf("session reasons %v, metrics prepare %v", BindFailReasons, metrics.BindFailReasons)
	}
}

// An SMSC that accepts TCP but never answers the handshake fails the
// attempt within DialTimeout (TCP and handshake together), as a TLS failure.
func TestTLSHandshakeBoundedByDialTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	var held []net.Conn // accepted, never answered
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	cfg, reasons := tlsConfig(ln.Addr().String(), tlstest.NewCA(t), "127.0.0.1")
	b := NewBind(cfg, "b1", good().get)
	b.Start()
	t.Cleanup(b.Close)
	err = waitState(t, b, StateBackoff)
	var te *TLSError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "no handshake within 300ms (dialTimeout)") {
		t.Fatalf("bind error %v, want a TLS failure: no handshake within the dial timeout", err)
	}
	if got := reasons.all(); len(got) == 0 || got[0] != BindFailTLS {
		t.Fatalf("failure reasons %v, want %s", got, BindFailTLS)
	}
}
