package session

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"

	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// breakingConn fails the write that carries the second submit_sm written on
// it once release is closed, so the test can queue more submits behind it
// first. What precedes that submit_sm in the same write (a deliver_sm_resp
// sharing the syscall, wire.go) leaves; with partial set, so do the first 10
// bytes of the submit_sm.
type breakingConn struct {
	net.Conn
	partial bool
	submits atomic.Int32
	release chan struct{}
}

func (c *breakingConn) Write(p []byte) (int, error) {
	at := -1
	forPDUs(p, func(id data.CommandIDType, _ int32, off, _ int) {
		if id == data.SUBMIT_SM && c.submits.Add(1) == 2 {
			at = off
		}
	})
	if at < 0 {
		return c.Conn.Write(p)
	}
	<-c.release
	if c.partial {
		n, _ := c.Conn.Write(p[:at+10])
		return n, errors.New("injected: write timeout part-way")
	}
	n, _ := c.Conn.Write(p[:at])
	return n, errors.New("injected: connection reset")
}

func TestSubmitsQueuedWhenTheWireBreaksAreNotSent(t *testing.T) {
	for _, partial := range []bool{false, true} {
		t.Run(fmt.Sprintf("partial=%v", partial), func(t *testing.T) {
			sim, addr := startSim(t, profile.Profile{})
			cfg := fastConfig(addr)
			cfg.Window = 20
			var broken atomic.Pointer[breakingConn]
			release := make(chan struct{})
			var releaseOnce sync.Once
			free := func() { releaseOnce.Do(func() { close(release) }) }
			t.Cleanup(free) // a failed test does not leave the wire's writer stuck
			cfg.Dial = func(addr string, timeout time.Duration) (net.Conn, error) {
				c, err := net.DialTimeout("tcp", addr, timeout)
				if err != nil || broken.Load() != nil {
					return c, err // the rebind gets a sound connection
				}
				bc := &breakingConn{Conn: c, partial: partial, release: release}
				broken.Store(bc)
				return bc, nil
			}
			b := NewBind(cfg, "b1", good().get)
			b.Start()
			t.Cleanup(b.Close)
			waitState(t, b, StateBound)
			if r, err := b.Submit(context.Background(), newSubmit(t, "first")); err != nil || !r.OK() {
				t.Fatalf("first submit: %+v %v", r, err)
			}
			failing := make(chan error, 1)
			go func() {
				_, err := b.Submit(context.Background(), newSubmit(t, "breaks the wire"))
				failing <- err
			}()
			smpptest.Eventually(t, 2*time.Second, time.Millisecond, func() error {
				if broken.Load().submits.Load() < 2 {
					return errors.New("failing write not started yet")
				}
				return nil
			})
			const n = 12
			errs := make(chan error, n)
			for i := 0; i < n; i++ {
				go func() {
					_, err := b.Submit(context.Background(), newSubmit(t, fmt.Sprint("queued ", i)))
					errs <- err
				}()
			}
			// Every queued submit is registered (and so queued on the wire, or
			// about to be) before the wire breaks under them.
			smpptest.Eventually(t, 5*time.Second, time.Millisecond, func() error {
				b.pmu.Lock()
				defer b.pmu.Unlock()
				if len(b.pending) < n+1 {
					return fmt.Errorf("%d submits pending", len(b.pending))
				}
				return nil
			})
			free()
			for i := 0; i < n; i++ {
				if err := <-errs; !errors.Is(err, ErrNotSent) {
					t.Errorf("a submit that never reached the wire: %v, want ErrNotSent (safe to send again)", err)
				}
			}
			// Bytes of a PDU that left may be completed by whatever follows
			// (the unbind): only a write that sent nothing is "not sent".
			want := ErrNotSent
			if partial {
				want = ErrUnknown
			}
			if err := <-failing; !errors.Is(err, want) {
				t.Errorf("the submit whose write failed: %v, want %v", err, want)
			}
			if got := sim.Stats().Sum("op", "acme", "submit_sm", ""); got != 1 {
				t.Fatalf("the SMSC saw %d submit_sm, want only the first", got)
			}
		})
	}
}
