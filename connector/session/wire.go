package session

import (
	"encoding/binary"
	"fmt"
	"net"

	"github.com/linxGnu/gosmpp/data"
)

// writeFailed is the error for a submit_sm whose write failed: not sent if
// no byte of it left, unknown if some did (the SMSC may read the rest of the
// PDU from whatever is written next, the unbind say, and accept it).
func (b *Bind) writeFailed(seq int32, err error) error {
	b.pmu.Lock()
	c := b.pending[seq]
	b.pmu.Unlock()
	if c != nil && c.written.Load() {
		return fmt.Errorf("%w: %w: %v", ErrUnknown, errWritePartway, err)
	}
	b.Stats.NotSent.Add(1)
	return fmt.Errorf("%w: %v", ErrNotSent, err)
}

// wireConn tells which submit_sm reached the socket. gosmpp writes each PDU
// with one Write, so the header at the start of a Write names it.
type wireConn struct {
	net.Conn
	b *Bind
}

func (w *wireConn) Write(p []byte) (int, error) {
	var c *call
	if len(p) >= 16 && data.CommandIDType(binary.BigEndian.Uint32(p[4:8])) == data.SUBMIT_SM {
		seq := int32(binary.BigEndian.Uint32(p[12:16]))
		w.b.pmu.Lock()
		c = w.b.pending[seq]
		w.b.pmu.Unlock()
		if c != nil {
			c.written.Store(true) // before the bytes leave: never later than the SMSC sees them
		}
	}
	n, err := w.Conn.Write(p)
	if c != nil && n == 0 && err != nil {
		c.written.Store(false)
	}
	return n, err
}
