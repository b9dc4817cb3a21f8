package session

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/linxGnu/gosmpp"
)

// TLS binds (Config.TLS).
//
// The connection to an endpoint that Config.TLS secures is the TCP
// connection from Config.Dial wrapped in a TLS client, the handshake done
// before the bind is sent, TCP connect and handshake together within
// DialTimeout. The bind's wireConn (wire.go) then wraps the TLS connection
// as it wraps a TCP one: tls.Conn.Write reports the plaintext of the
// records it wrote whole, and a record cut short can never be decrypted by
// the SMSC, so a PDU's outcome (written, partway, not sent) keeps its
// meaning. A TLS failure (a certificate the CA does not vouch for, a wrong
// server name, the SMSC refusing our client certificate, a handshake that
// does not finish in time) is a *TLSError naming the operator and the
// endpoint, counted under BindFailTLS.

// TLSError is a bind that failed in TLS.
type TLSError struct {
	Operator, Addr string
	Err            error
}

func (e *TLSError) Error() string {
	return fmt.Sprintf("operator %q endpoint %s: TLS: %v", e.Operator, e.Addr, e.Err)
}

func (e *TLSError) Unwrap() error { return e.Err }

// Reasons of a failed bind attempt (Config.OnBindFailure).
const (
	BindFailTLS     = "tls"     // TLS handshake or certificate (TLSError)
	BindFailConnect = "connect" // TCP connect
	BindFailRefused = "refused" // bind_resp with an error status
	BindFailTimeout = "timeout" // no bind_resp within BindTimeout
	BindFailOther   = "other"
)

// BindFailReasons are the reasons in the order metrics prepare them.
var BindFailReasons = []string{BindFailTLS, BindFailConnect, BindFailRefused, BindFailTimeout, BindFailOther}

// dial opens the connection of a bind attempt: TCP (Config.Dial), then TLS
// when Config.TLS secures addr.
func (b *Bind) dial(addr string) (net.Conn, error) {
	deadline := time.Now().Add(b.cfg.DialTimeout)
	c, err := b.cfg.Dial(addr, b.cfg.DialTimeout)
	if err != nil {
		return nil, &dialError{err}
	}
	if b.cfg.TLS == nil {
		return c, nil
	}
	cfg, err := b.cfg.TLS(addr)
	if err != nil || cfg == nil {
		if err != nil {
			c.Close()
			return nil, &TLSError{Operator: b.cfg.Operator, Addr: addr, Err: err}
		}
		return c, nil
	}
	tc := tls.Client(c, cfg)
	_ = tc.SetDeadline(deadline)
	if err := tc.Handshake(); err != nil {
		c.Close()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			err = fmt.Errorf("no handshake within %v (dialTimeout)", b.cfg.DialTimeout)
		}
		return nil, &TLSError{Operator: b.cfg.Operator, Addr: addr, Err: err}
	}
	return &tlsConn{Conn: tc, operator: b.cfg.Operator, addr: addr}, nil
}

// tlsConn tells TLS alerts from the SMSC apart from other read errors: with
// TLS 1.3 the client's handshake ends before the server has checked the
// client certificate, so a refused certificate shows as an alert on the
// first read, the bind_resp's.
type tlsConn struct {
	*tls.Conn
	operator, addr string
}

func (c *tlsConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	var oe *net.OpError
	if err != nil && errors.As(err, &oe) && oe.Op == "remote error" {
		err = &TLSError{Operator: c.operator, Addr: c.addr, Err: err}
	}
	return n, err
}

// dialError is a failed TCP connect.
type dialError struct{ err error }

func (e *dialError) Error() string { return "connect: " + e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// bindFailed counts a failed bind attempt and tells Config.OnBindFailure why.
func (b *Bind) bindFailed(err error) {
	b.Stats.BindFailures.Add(1)
	if b.cfg.OnBindFailure != nil {
		b.cfg.OnBindFailure(b.name, bindFailReason(err))
	}
}

func bindFailReason(err error) string {
	var te *TLSError
	var de *dialError
	var be gosmpp.BindError
	var ne net.Error
	switch {
	case errors.As(err, &te):
		return BindFailTLS
	case errors.As(err, &de):
		return BindFailConnect
	case errors.As(err, &be):
		return BindFailRefused
	case errors.As(err, &ne) && ne.Timeout():
		return BindFailTimeout
	}
	return BindFailOther
}
