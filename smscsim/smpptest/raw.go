// Package smpptest has helpers for tests that speak raw SMPP to a server, in the
// spirit of nats-server's send/expect helpers: write exact PDUs, read back what
// the server answered, fail the test with a clear message on a timeout.
package smpptest

import (
	"bufio"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/internal/testutil"
	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// Raw is a test connection that speaks SMPP frame by frame.
type Raw struct {
	t    testing.TB
	Conn net.Conn
	r    *bufio.Reader
	seq  int32
}

// Dial connects to addr or fails the test.
func Dial(t testing.TB, addr string) *Raw {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &Raw{t: t, Conn: c, r: bufio.NewReader(c)}
}

// DialTLS connects to a TLS listener (see smscsim/tlstest for a CA to trust)
// and completes the handshake, or fails the test.
func DialTLS(t testing.TB, addr string, conf *tls.Config) *Raw {
	t.Helper()
	c, err := TryDialTLS(addr, conf)
	if err != nil {
		t.Fatalf("dial tls %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &Raw{t: t, Conn: c, r: bufio.NewReader(c)}
}

// TryDialTLS connects and runs the TLS handshake, returning its error (a
// test that expects the handshake to fail).
func TryDialTLS(addr string, conf *tls.Config) (*tls.Conn, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr, conf)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// NextSeq returns a fresh sequence number.
func (r *Raw) NextSeq() int32 { r.seq++; return r.seq }

// Send writes a PDU, assigning the next sequence number; it returns that number.
func (r *Raw) Send(p pdu.PDU) int32 {
	r.t.Helper()
	seq := r.NextSeq()
	p.SetSequenceNumber(seq)
	r.Write(wire.Encode(p))
	return seq
}

// Write writes raw bytes.
func (r *Raw) Write(b []byte) {
	r.t.Helper()
	if _, err := r.Conn.Write(b); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// Read returns the next PDU within d.
func (r *Raw) Read(d time.Duration) (pdu.PDU, error) {
	r.Conn.SetReadDeadline(time.Now().Add(d))
	f, err := wire.ReadFrame(r.r, 0)
	if err != nil {
		return nil, err
	}
	return wire.Decode(f)
}

// Expect reads PDUs until one with the command id arrives (answering
// enquire_link and skipping others) and fails the test after d.
func (r *Raw) Expect(id data.CommandIDType, d time.Duration) pdu.PDU {
	r.t.Helper()
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			r.t.Fatalf("no %s within %v", wire.CommandName(id), d)
		}
		p, err := r.Read(left)
		if err != nil {
			r.t.Fatalf("waiting for %s: %v", wire.CommandName(id), err)
		}
		if p.GetHeader().CommandID == id {
			return p
		}
		if p.GetHeader().CommandID == data.ENQUIRE_LINK {
			r.Write(wire.HeaderOnly(data.ENQUIRE_LINK_RESP, 0, p.GetSequenceNumber()))
		}
	}
}

// ExpectNothing fails the test if any PDU arrives within d.
func (r *Raw) ExpectNothing(d time.Duration) {
	r.t.Helper()
	if p, err := r.Read(d); err == nil {
		r.t.Fatalf("expected silence, got %s status %s", wire.CommandName(p.GetHeader().CommandID), wire.StatusName(p.GetHeader().CommandStatus))
	}
}

// Bind sends a bind of the given type and returns the response, which must be
// the very next PDU: nothing may overtake a bind_resp.
func (r *Raw) Bind(t pdu.BindingType, systemID, password string) *pdu.BindResp {
	r.t.Helper()
	b := pdu.NewBindRequest(t)
	b.SystemID, b.Password = systemID, password
	r.Send(b)
	p, err := r.Read(2 * time.Second)
	if err != nil {
		r.t.Fatalf("waiting for bind_resp: %v", err)
	}
	resp, ok := p.(*pdu.BindResp)
	if !ok {
		r.t.Fatalf("first PDU after a bind is %s, not its bind_resp", wire.CommandName(p.GetHeader().CommandID))
	}
	return resp
}

// Submit sends a submit_sm to dest with text and registered_delivery.
func (r *Raw) Submit(dest, text string, regDlr byte) int32 {
	r.t.Helper()
	return r.Send(NewSubmit(r.t, "TEST", dest, text, regDlr))
}

// NewSubmit builds a GSM 7-bit submit_sm.
func NewSubmit(t testing.TB, src, dest, text string, regDlr byte) *pdu.SubmitSM {
	t.Helper()
	s := pdu.NewSubmitSM().(*pdu.SubmitSM)
	s.SourceAddr = pdu.NewAddressWithTonNpi(5, 0)
	_ = s.SourceAddr.SetAddress(src)
	s.DestAddr = pdu.NewAddressWithTonNpi(1, 1)
	_ = s.DestAddr.SetAddress(dest)
	s.RegisteredDelivery = regDlr
	if err := s.Message.SetMessageWithEncoding(text, data.GSM7BIT); err != nil {
		t.Fatalf("encode %q: %v", text, err)
	}
	return s
}

// AckDeliver answers a deliver_sm with deliver_sm_resp.
func (r *Raw) AckDeliver(d pdu.PDU, status data.CommandStatusType) {
	r.Write(wire.MessageIDResp(nil, data.DELIVER_SM_RESP, status, d.GetSequenceNumber(), ""))
}

// Eventually polls f until it returns nil or fails the test after d (like
// nats-server's checkFor); it is testutil.WaitFor, kept for its callers.
func Eventually(t testing.TB, d, every time.Duration, f func() error) {
	t.Helper()
	testutil.WaitFor(t, d, every, f)
}
