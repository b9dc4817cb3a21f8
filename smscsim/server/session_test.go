//go:build unix

package server

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// A close waits for the writer to flush what was queued (other tests check
// an unbind_resp or a generic_nack arrives before the connection goes), but a
// writer stuck on a peer that stops reading must not hold the close: the
// session is gone within closeFlushWait.
func TestCloseDoesNotWaitForAStuckWriter(t *testing.T) {
	s, addr := start(t, profile.Profile{})
	// Small socket buffers on our side so that the writer blocks soon.
	d := net.Dialer{Timeout: 2 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = errors.Join(syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096),
				syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096))
		})
		return errors.Join(err, serr)
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	bind := pdu.NewBindRequest(pdu.Transceiver)
	bind.SystemID, bind.Password = "test", "test"
	bind.SetSequenceNumber(1)
	if _, err := c.Write(wire.Encode(bind)); err != nil {
		t.Fatal(err)
	}
	// Requests we never read the answers to, until our writes stall: then
	// the simulator's reader is blocked on a full output queue, which means
	// its writer is blocked on us (it drains the queue whenever it can).
	var batch bytes.Buffer
	for i := 0; i < 4096; i++ {
		batch.Write(wire.HeaderOnly(data.ENQUIRE_LINK, data.ESME_ROK, int32(i+2)))
	}
	stalled := false
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		c.SetWriteDeadline(time.Now().Add(500 * time.Millisecond))
		if _, err := c.Write(batch.Bytes()); errors.Is(err, os.ErrDeadlineExceeded) {
			stalled = true
			break
		} else if err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	if !stalled {
		t.Fatal("the simulator kept reading: its writer never blocked")
	}
	if n := s.Disconnect(faults.Match{}); n != 1 {
		t.Fatalf("disconnected %d sessions, want 1", n)
	}
	t0 := time.Now()
	smpptest.Eventually(t, closeFlushWait+3*time.Second, 5*time.Millisecond, func() error {
		if n := len(s.Sessions()); n != 0 {
			return fmt.Errorf("%d sessions still up", n)
		}
		return nil
	})
	t.Logf("session gone %v after the close", time.Since(t0))
}
