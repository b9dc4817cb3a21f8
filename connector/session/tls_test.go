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

	"github.com/smpp-connector/smpp-connector/connector/internal/tlstest"
	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
)

// These tests bind through a TLS listener (tlstest.Front) in front of the
// simulator, with a CA made in the test.

// tlsConfig is a bind to front over TLS trusting ca for serverName, that
// records its failure reasons.
func tlsConfig(front string, ca *tlstest.CA, serverName string, client ...tls.Certificate) (Config, *reasons) {
	cfg := fastConfig(front)
	cfg.TLS = func(addr string) (*tls.Config, error) {
		if addr != front {
			return nil, nil
		}
		return &tls.Config{RootCAs: ca.Pool(), ServerName: serverName, Certificates: client, MinVersion: tls.VersionTLS12}, nil
	}
	r := &reasons{}
	cfg.OnBindFailure = r.add
	return cfg, r
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

func TestBindOverTLS(t *testing.T) {
	_, addr := startSim(t, profile.Profile{})
	ca := tlstest.NewCA(t, "smsc")
	front := tlstest.NewFront(t, ca.Server(t, "127.0.0.1"), nil, addr)
	cfg, _ := tlsConfig(front.Addr(), ca, "127.0.0.1")
	b := NewBind(cfg, "b1", good().get)
	b.Start()
	t.Cleanup(b.Close)
	waitState(t, b, StateBound) // the listener speaks only TLS: a plaintext bind never gets a bind_resp
	if r, err := b.Submit(context.Background(), newSubmit(t, "over TLS")); err != nil || !r.OK() {
		t.Fatalf("submit over TLS: %+v %v", r, err)
	}
	if n := front.Handshakes.Load(); n != 1 {
		t.Fatalf("%d TLS handshakes, want 1", n)
	}
}

// A certificate from another CA, or for another name, is refused: the bind
// stays down with an error naming the operator and the endpoint, counted as
// a TLS failure, and nothing reaches the SMSC.
func TestTLSRefusals(t *testing.T) {
	_, addr := startSim(t, profile.Profile{})
	ca := tlstest.NewCA(t, "smsc")
	for _, tc := range []struct {
		name       string
		front      func() *tlstest.Front
		serverName string
		want       string
	}{
		{"certificate of another CA", func() *tlstest.Front {
			return tlstest.NewFront(t, tlstest.NewCA(t, "rogue").Server(t, "127.0.0.1"), nil, addr)
		}, "127.0.0.1", "x509: certificate signed by unknown authority"},
		{"wrong server name", func() *tlstest.Front {
			return tlstest.NewFront(t, ca.Server(t, "127.0.0.1", "smsc.mno-a.example"), nil, addr)
		}, "smsc.mno-b.example", "x509: certificate is valid for smsc.mno-a.example, not smsc.mno-b.example"},
		{"client certificate required", func() *tlstest.Front {
			return tlstest.NewFront(t, ca.Server(t, "127.0.0.1"), ca.Pool(), addr)
		}, "127.0.0.1", "remote error: tls: certificate required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			front := tc.front()
			cfg, reasons := tlsConfig(front.Addr(), ca, tc.serverName)
			b := NewBind(cfg, "b1", good().get)
			b.Start()
			t.Cleanup(b.Close)
			err := waitState(t, b, StateBackoff)
			var te *TLSError
			if !errors.As(err, &te) || te.Operator != "op" || te.Addr != front.Addr() {
				t.Fatalf("bind error %v, want a *TLSError for operator op, endpoint %s", err, front.Addr())
			}
			if msg := err.Error(); !strings.Contains(msg, `operator "op" endpoint `+front.Addr()+": TLS: ") || !strings.Contains(msg, tc.want) {
				t.Fatalf("bind error %q: want the operator, the endpoint and %q", msg, tc.want)
			}
			if got := reasons.all(); len(got) == 0 || got[0] != BindFailTLS {
				t.Fatalf("failure reasons %v, want %s", got, BindFailTLS)
			}
		})
	}
}

// Mutual TLS: the client certificate the SMSC's CA signed is presented.
func TestBindOverMutualTLS(t *testing.T) {
	_, addr := startSim(t, profile.Profile{})
	ca := tlstest.NewCA(t, "smsc")
	front := tlstest.NewFront(t, ca.Server(t, "127.0.0.1"), ca.Pool(), addr)
	cfg, _ := tlsConfig(front.Addr(), ca, "127.0.0.1", ca.Client(t, "acme"))
	b := NewBind(cfg, "b1", good().get)
	b.Start()
	t.Cleanup(b.Close)
	waitState(t, b, StateBound)
	if r, err := b.Submit(context.Background(), newSubmit(t, "mutual")); err != nil || !r.OK() {
		t.Fatalf("submit over mutual TLS: %+v %v", r, err)
	}
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
	sim, addr := startSim(t, profile.Profile{})
	ca := tlstest.NewCA(t, "smsc")
	front := tlstest.NewFront(t, ca.Server(t, "127.0.0.1"), nil, addr)
	cfg, _ := tlsConfig(front.Addr(), ca, "127.0.0.1")
	var armed atomic.Bool
	cfg.Dial = func(addr string, timeout time.Duration) (net.Conn, error) {
		c, err := net.DialTimeout("tcp", addr, timeout)
		if err != nil {
			return nil, err
		}
		return &cuttingConn{Conn: c, armed: &armed}, nil
	}
	b := NewBind(cfg, "b1", good().get)
	b.Start()
	t.Cleanup(b.Close)
	waitState(t, b, StateBound)
	if r, err := b.Submit(context.Background(), newSubmit(t, "first")); err != nil || !r.OK() {
		t.Fatalf("first submit: %+v %v", r, err)
	}
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
	cfg, reasons := tlsConfig(ln.Addr().String(), tlstest.NewCA(t, "smsc"), "127.0.0.1")
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
