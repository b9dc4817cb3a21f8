package session

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
)

// Fewer syscalls: group commit of a bind's writes.
//
// gosmpp v0.3.1 writes every PDU from one goroutine, one conn.Write per PDU,
// and waits for it before taking the next from a channel of capacity one:
// through it, writes are never concurrent and can never be batched, so each
// submit_sm and each deliver_sm_resp is one write syscall. Buffering behind
// gosmpp's back (returning from Write before the bytes leave) would tell
// gosmpp, and Submit, that a PDU was written when it was not.
//
// So the PDUs that make the traffic bypass gosmpp's writer: Submit writes its
// submit_sm and a deliver worker its deliver_sm_resp on wireConn from their
// own goroutines (gosmpp, in its non-windowed mode, tracks no request: it
// only marshals and writes). gosmpp still writes the rest (bind,
// enquire_link, its answers to the SMSC's requests, unbind) through
// wireConn.Write. A write that finds the connection idle goes out at once, in
// its own syscall (no timer, no added latency); the writes that arrive while
// it is in progress queue and leave together in the next syscall, one Write
// of their bytes copied end to end (one syscall whatever the net.Conn: the
// Dial seam may wrap the TCP connection). Every writer waits for the syscall
// that carried its PDU and gets that PDU's own outcome:
//
//   - a PDU wholly within the n bytes written: written, no error;
//   - the PDU that straddles n: partway (0 < n < its length), the error;
//   - the PDUs after n: not sent (0, the error).
//
// A submit_sm is marked written before its syscall (never later than the
// SMSC could see it) and unmarked if none of its bytes left, so dropped,
// which may run meanwhile, errs only towards "unknown". After a failed write
// the stream may end inside a PDU: the connection is closed (gosmpp's reader
// then ends the session) and every later write fails, not sent.

// errUnbound refuses a PDU queued after an unbind or an unbind_resp: the
// session is over for the SMSC, which must not be handed a submit it could
// still act on.
var errUnbound = errors.New("session unbinding: nothing more is written")

// wireConn is a bind's connection: it writes PDUs by group commit (above).
type wireConn struct {
	net.Conn
	timeout time.Duration // write deadline of each syscall (Config.WriteTimeout)

	mu      sync.Mutex
	busy    bool    // a leader is writing; new writes queue
	queue   []*wreq // for the next syscall, in arrival order
	err     error   // the failed write: sticky
	unbound bool    // an unbind or unbind_resp is queued or written
	buf     []byte  // the leader's: a batch's bytes end to end
}

// wreq is one PDU waiting to be written and, once woken, its outcome.
type wreq struct {
	p       []byte
	written *atomic.Bool // a submit_sm's call.written; nil for other PDUs
	n       int
	err     error
	wake    chan bool // true: lead the next syscall; false: done, read n and err
}

var wreqs = sync.Pool{New: func() any { return &wreq{wake: make(chan bool, 1)} }}

func newWireConn(c net.Conn, timeout time.Duration) *wireConn {
	return &wireConn{Conn: c, timeout: timeout}
}

// Write is gosmpp's way in: one PDU per call.
func (w *wireConn) Write(p []byte) (int, error) { return w.write(p, nil) }

// SetWriteDeadline is a no-op: gosmpp sets one before each of its writes, but
// the syscall carrying its PDU is timed by the leader of the batch
// (wireConn.timeout), and a deadline set in the middle of another writer's
// syscall would only move that one's.
func (w *wireConn) SetWriteDeadline(time.Time) error { return nil }

// writePDU marshals p and writes it; written is a submit_sm's call.written.
func (w *wireConn) writePDU(p pdu.PDU, written *atomic.Bool) (int, error) {
	buf := pdu.NewBuffer(make([]byte, 0, 128))
	p.Marshal(buf)
	return w.write(buf.Bytes(), written)
}

// write writes one whole PDU and returns how much of it reached the socket.
func (w *wireConn) write(p []byte, written *atomic.Bool) (int, error) {
	r := wreqs.Get().(*wreq)
	r.p, r.written = p, written
	defer func() {
		r.p, r.written, r.err = nil, nil, nil
		wreqs.Put(r)
	}()
	w.mu.Lock()
	if w.err != nil || w.unbound {
		err := w.err
		if err == nil {
			err = errUnbound
		}
		w.mu.Unlock()
		return 0, err
	}
	if len(p) >= 8 {
		switch data.CommandIDType(binary.BigEndian.Uint32(p[4:8])) {
		case data.UNBIND, data.UNBIND_RESP:
			w.unbound = true
		}
	}
	w.queue = append(w.queue, r)
	if w.busy {
		w.mu.Unlock()
		if lead := <-r.wake; !lead {
			return r.n, r.err
		}
		w.mu.Lock()
	}
	// The leader: r heads the queue (it arrived at an idle connection, or
	// the previous leader handed over to the head of the queue).
	w.busy = true
	batch := w.queue
	w.queue = nil
	w.mu.Unlock()

	err := w.flush(batch)

	w.mu.Lock()
	if err != nil {
		w.err = err
		for _, q := range w.queue { // never started: not sent
			q.n, q.err = 0, err
			q.wake <- false
		}
		w.queue, w.busy = nil, false
	} else if len(w.queue) > 0 {
		w.queue[0].wake <- true // queued meanwhile: the next syscall
	} else {
		w.busy = false
	}
	w.mu.Unlock()
	if err != nil {
		// The stream may end inside a PDU: nothing sound can follow. The
		// written marks are final by now, for dropped.
		_ = w.Conn.Close()
	}
	for _, q := range batch[1:] {
		q.wake <- false
	}
	return r.n, r.err
}

// flush writes a batch in one syscall and gives each PDU its outcome (see
// the top of the file). It returns the write's error.
func (w *wireConn) flush(batch []*wreq) error {
	for _, q := range batch {
		if q.written != nil {
			q.written.Store(true) // before the bytes leave: never later than the SMSC sees them
		}
	}
	var n int
	var err error
	if w.timeout > 0 {
		err = w.Conn.SetWriteDeadline(time.Now().Add(w.timeout))
	}
	total := 0
	if err == nil {
		if len(batch) == 1 {
			total = len(batch[0].p)
			n, err = w.Conn.Write(batch[0].p)
		} else {
			buf := w.buf[:0]
			for _, q := range batch {
				buf = append(buf, q.p...)
			}
			total = len(buf)
			n, err = w.Conn.Write(buf)
			if cap(buf) <= 1<<20 {
				w.buf = buf // only the leader touches buf: leaders follow one another
			}
		}
		if err == nil && n < total {
			err = io.ErrShortWrite
		}
	}
	off := 0
	for _, q := range batch {
		l := len(q.p)
		switch {
		case n >= off+l:
			q.n, q.err = l, nil
		case n > off:
			q.n, q.err = n-off, err
		default:
			q.n, q.err = 0, err
			if q.written != nil {
				q.written.Store(false)
			}
		}
		off += l
	}
	return err
}

// queued is the number of writes waiting for the next syscall (tests).
func (w *wireConn) queued() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue)
}

// writeFailed completes a submit_sm whose write failed: not sent if no byte
// of it left, unknown if some did (the SMSC may read the rest of the PDU from
// whatever is written next and accept it). If the bind dropped it first,
// dropped's verdict, from the same mark, stands.
func (b *Bind) writeFailed(seq int32, c *call, err error) {
	b.pmu.Lock()
	_, ok := b.pending[seq]
	delete(b.pending, seq)
	b.pmu.Unlock()
	if !ok {
		return
	}
	if c.written.Load() {
		c.err = fmt.Errorf("%w: %w: %v", ErrUnknown, errWritePartway, err)
	} else {
		b.Stats.NotSent.Add(1)
		c.err = fmt.Errorf("%w: %v", ErrNotSent, err)
	}
	close(c.done)
}
