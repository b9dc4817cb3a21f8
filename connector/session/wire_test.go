package session

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// These tests drive the group commit of wire.go on a fake connection whose
// writes the test holds, shortens and fails at will.

// rawPDU is a PDU-shaped byte string: a header (length, command_id, status,
// sequence number) and size-16 filler bytes.
func rawPDU(id data.CommandIDType, seq int32, size int) []byte {
	p := make([]byte, size)
	binary.BigEndian.PutUint32(p[0:], uint32(size))
	binary.BigEndian.PutUint32(p[4:], uint32(id))
	binary.BigEndian.PutUint32(p[12:], uint32(seq))
	for i := 16; i < size; i++ {
		p[i] = byte(seq)
	}
	return p
}

// outcome is what the fake's Write returns: n bytes accepted (capped at the
// length given), err.
type outcome struct {
	n   int
	err error
}

// fakeConn accepts writes into a stream. Each Write is one syscall: it
// reports itself on entered, waits on release when hold is set, then returns
// the next scripted outcome (a full write when the script is used up).
type fakeConn struct {
	net.Conn // nil: wireConn uses only Write, SetWriteDeadline and Close
	hold     bool
	entered  chan []byte
	release  chan struct{}
	onWrite  func(p []byte) // inside the syscall, before it returns

	mu     sync.Mutex
	script []outcome
	writes []wrote
	closed bool
}

// wrote is one syscall: the bytes given and how many were accepted.
type wrote struct {
	p []byte
	n int
}

func newFake(hold bool, script ...outcome) *fakeConn {
	return &fakeConn{hold: hold, script: script, entered: make(chan []byte, 100), release: make(chan struct{}, 100)}
}

func (f *fakeConn) Write(p []byte) (int, error) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return 0, net.ErrClosed
	}
	o := outcome{n: len(p)}
	if len(f.script) > 0 {
		o, f.script = f.script[0], f.script[1:]
	}
	o.n = min(o.n, len(p))
	f.writes = append(f.writes, wrote{append([]byte(nil), p...), o.n})
	f.mu.Unlock()
	if f.onWrite != nil {
		f.onWrite(p)
	}
	f.entered <- p
	if f.hold {
		<-f.release
	}
	return o.n, o.err
}

func (f *fakeConn) SetWriteDeadline(time.Time) error { return nil }

func (f *fakeConn) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

// syscalls returns the bytes given to each Write.
func (f *fakeConn) syscalls() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ps [][]byte
	for _, w := range f.writes {
		ps = append(ps, w.p)
	}
	return ps
}

// accepted walks the PDUs of every syscall: seq -> how many of its bytes the
// fake accepted.
func (f *fakeConn) accepted() map[int32]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[int32]int{}
	for _, w := range f.writes {
		forPDUs(w.p, func(_ data.CommandIDType, seq int32, off, l int) { out[seq] = max(0, min(l, w.n-off)) })
	}
	return out
}

// forPDUs calls fn for each whole PDU in p (a syscall's bytes).
func forPDUs(p []byte, fn func(id data.CommandIDType, seq int32, off, l int)) {
	for off := 0; off+16 <= len(p); {
		l := int(binary.BigEndian.Uint32(p[off:]))
		fn(data.CommandIDType(binary.BigEndian.Uint32(p[off+4:])), int32(binary.BigEndian.Uint32(p[off+12:])), off, l)
		off += l
	}
}

func (f *fakeConn) isClosed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

// result is one writer's outcome.
type result struct {
	n       int
	err     error
	written *atomic.Bool
}

// goWrite starts a write of p (a submit_sm's, with its written mark, kept in
// marks by sequence number) and returns where its result arrives.
func goWrite(w *wireConn, p []byte, marks *sync.Map) <-chan result {
	mark := new(atomic.Bool)
	if marks != nil {
		marks.Store(int32(binary.BigEndian.Uint32(p[12:])), mark)
	}
	out := make(chan result, 1)
	go func() {
		n, err := w.write(p, mark)
		out <- result{n, err, mark}
	}()
	return out
}

// queueBehind starts a lone write of lead, which the fake holds inside its
// syscall, then the writes of pdus one after the other, each once the one
// before is queued (so their order is known). The caller releases the fake.
func queueBehind(t *testing.T, w *wireConn, f *fakeConn, marks *sync.Map, lead []byte, pdus ...[]byte) (<-chan result, []<-chan result) {
	t.Helper()
	first := goWrite(w, lead, marks)
	<-f.entered
	outs := make([]<-chan result, len(pdus))
	for i, p := range pdus {
		outs[i] = goWrite(w, p, marks)
		smpptest.Eventually(t, 5*time.Second, time.Millisecond, func() error {
			if q := w.queued(); q != i+1 {
				return fmt.Errorf("%d queued, want %d", q, i+1)
			}
			return nil
		})
	}
	return first, outs
}

func TestWireLonePDUIsWrittenAtOnceInItsOwnSyscall(t *testing.T) {
	f := newFake(false)
	w := newWireConn(f, time.Second)
	p := rawPDU(data.SUBMIT_SM, 1, 40)
	var mark atomic.Bool
	// Write returns only after its syscall: by then the fake has it, alone.
	n, err := w.write(p, &mark)
	if n != len(p) || err != nil || !mark.Load() {
		t.Fatalf("n=%d err=%v written=%v", n, err, mark.Load())
	}
	if got := f.syscalls(); len(got) != 1 || !bytes.Equal(got[0], p) {
		t.Fatalf("syscalls %q, want one with the PDU", got)
	}
}

func TestWireWritesQueuedDuringASyscallShareTheNext(t *testing.T) {
	f := newFake(true)
	w := newWireConn(f, time.Second)
	var marks sync.Map // seq -> *atomic.Bool
	f.onWrite = func(p []byte) {
		forPDUs(p, func(_ data.CommandIDType, seq int32, _, _ int) {
			if m, _ := marks.Load(seq); !m.(*atomic.Bool).Load() {
				t.Errorf("PDU %d in a syscall not marked written before its bytes left", seq)
			}
		})
	}
	lead := rawPDU(data.SUBMIT_SM, 1, 40)
	pdus := [][]byte{rawPDU(data.SUBMIT_SM, 2, 33), rawPDU(data.DELIVER_SM_RESP, 3, 17), rawPDU(data.SUBMIT_SM, 4, 50)}
	first, outs := queueBehind(t, w, f, &marks, lead, pdus...)
	f.release <- struct{}{}
	<-f.entered // the batch's syscall
	f.release <- struct{}{}
	if r := <-first; r.n != len(lead) || r.err != nil || !r.written.Load() {
		t.Fatalf("lead: %+v", r)
	}
	for i, out := range outs {
		if r := <-out; r.n != len(pdus[i]) || r.err != nil || !r.written.Load() {
			t.Errorf("PDU %d: n=%d err=%v written=%v", i, r.n, r.err, r.written.Load())
		}
	}
	got := f.syscalls()
	if want := [][]byte{lead, bytes.Join(pdus, nil)}; len(got) != 2 || !bytes.Equal(got[0], want[0]) || !bytes.Equal(got[1], want[1]) {
		t.Fatalf("%d syscalls, want 2: the lead alone, then the three queued behind it end to end in order", len(got))
	}
}

func TestWireShortWriteIsAttributedPerPDU(t *testing.T) {
	injected := errors.New("injected: write failed")
	const la, lb, lc = 16, 24, 20 // the batch: A, B, C
	cases := []struct {
		n    int
		want [3]int // bytes of A, B, C that left
	}{
		{n: 0, want: [3]int{0, 0, 0}},
		{n: 7, want: [3]int{7, 0, 0}},
		{n: la, want: [3]int{la, 0, 0}},
		{n: la + 10, want: [3]int{la, 10, 0}},
		{n: la + lb, want: [3]int{la, lb, 0}},
		{n: la + lb + lc - 1, want: [3]int{la, lb, lc - 1}},
		{n: la + lb + lc, want: [3]int{la, lb, lc}}, // all left; the error came with the last byte
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint("n=", tc.n), func(t *testing.T) {
			f := newFake(true, outcome{n: 1 << 20}, outcome{n: tc.n, err: injected})
			w := newWireConn(f, time.Second)
			pdus := [][]byte{rawPDU(data.SUBMIT_SM, 10, la), rawPDU(data.SUBMIT_SM, 11, lb), rawPDU(data.SUBMIT_SM, 12, lc)}
			first, outs := queueBehind(t, w, f, nil, rawPDU(data.SUBMIT_SM, 1, 30), pdus...)
			f.release <- struct{}{}
			<-f.entered // the batch's syscall, which fails after tc.n bytes
			// D arrives while that syscall is in progress.
			late := goWrite(w, rawPDU(data.SUBMIT_SM, 13, 30), nil)
			smpptest.Eventually(t, 5*time.Second, time.Millisecond, func() error {
				if w.queued() != 1 {
					return errors.New("D not queued yet")
				}
				return nil
			})
			f.release <- struct{}{}
			if r := <-first; r.err != nil {
				t.Fatalf("the lead's own syscall succeeded: %v", r.err)
			}
			for i, out := range outs {
				r := <-out
				whole := tc.want[i] == len(pdus[i])
				switch {
				case r.n != tc.want[i]:
					t.Errorf("PDU %d: %d bytes reported, %d left", i, r.n, tc.want[i])
				case whole && r.err != nil:
					t.Errorf("PDU %d wholly written, reported failed: %v", i, r.err)
				case !whole && !errors.Is(r.err, injected):
					t.Errorf("PDU %d not wholly written, err %v", i, r.err)
				}
				// Written (the SMSC may have it) exactly when a byte of it left.
				if r.written.Load() != (tc.want[i] > 0) {
					t.Errorf("PDU %d: written=%v with %d bytes out", i, r.written.Load(), tc.want[i])
				}
			}
			if r := <-late; r.n != 0 || !errors.Is(r.err, injected) || r.written.Load() {
				t.Errorf("D, queued behind the failed syscall: %+v, want not sent", r)
			}
			// Nothing follows a failed write: the stream may end inside a PDU.
			if n, err := w.write(rawPDU(data.ENQUIRE_LINK, 14, 16), nil); n != 0 || !errors.Is(err, injected) {
				t.Errorf("a write after the failure: n=%d err=%v", n, err)
			}
			if len(f.syscalls()) != 2 || !f.isClosed() {
				t.Errorf("%d syscalls, closed=%v: want 2 and the connection closed", len(f.syscalls()), f.isClosed())
			}
		})
	}
}

func TestWireLoneWriteFailingSendsNothing(t *testing.T) {
	injected := errors.New("injected: connection reset")
	f := newFake(false, outcome{n: 0, err: injected})
	w := newWireConn(f, time.Second)
	var mark atomic.Bool
	if n, err := w.write(rawPDU(data.SUBMIT_SM, 1, 40), &mark); n != 0 || !errors.Is(err, injected) || mark.Load() {
		t.Fatalf("n=%d err=%v written=%v, want not sent", n, err, mark.Load())
	}
}

func TestWireRefusesWhatFollowsAnUnbind(t *testing.T) {
	for _, id := range []data.CommandIDType{data.UNBIND, data.UNBIND_RESP} {
		f := newFake(false)
		w := newWireConn(f, time.Second)
		if _, err := w.write(rawPDU(id, 1, 16), nil); err != nil {
			t.Fatal(err)
		}
		var mark atomic.Bool
		if n, err := w.write(rawPDU(data.SUBMIT_SM, 2, 40), &mark); n != 0 || !errors.Is(err, errUnbound) || mark.Load() {
			t.Errorf("a submit_sm after %s: n=%d err=%v written=%v, want refused", id, n, err, mark.Load())
		}
		if len(f.syscalls()) != 1 {
			t.Errorf("after %s: %d syscalls, want the unbind's only", id, len(f.syscalls()))
		}
	}
}

// Many writers at once, the fake failing part-way through a random syscall:
// every writer's report agrees with the bytes the fake accepted.
func TestWireConcurrentWritersAgreeWithTheStream(t *testing.T) {
	for round := 0; round < 20; round++ {
		failAt := rand.IntN(8)
		script := make([]outcome, failAt+1)
		for i := range script {
			script[i] = outcome{n: 1 << 20}
		}
		script[failAt] = outcome{n: rand.IntN(400), err: errors.New("injected")}
		f := newFake(false, script...)
		f.entered = make(chan []byte, 1000)
		w := newWireConn(f, time.Second)
		const writers = 64
		results := make([]result, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				mark := new(atomic.Bool)
				n, err := w.write(rawPDU(data.SUBMIT_SM, int32(i+1), 16+rand.IntN(40)), mark)
				results[i] = result{n, err, mark}
			}()
		}
		wg.Wait()
		out := f.accepted()
		for i, r := range results {
			got := out[int32(i+1)]
			if r.n != got {
				t.Fatalf("round %d, writer %d: reported %d bytes, the fake accepted %d", round, i, r.n, got)
			}
			if r.written.Load() != (got > 0) {
				t.Fatalf("round %d, writer %d: written=%v with %d bytes out", round, i, r.written.Load(), got)
			}
		}
	}
}

// countingConn counts the syscalls that carry submit_sm, and the most in one;
// it holds the first such syscall until hold returns.
type countingConn struct {
	net.Conn
	hold func()
	once sync.Once

	mu                  sync.Mutex
	syscalls, submits   int
	mostInOne, receipts int
}

func (c *countingConn) Write(p []byte) (int, error) {
	k, r := 0, 0
	forPDUs(p, func(id data.CommandIDType, _ int32, _, _ int) {
		switch id {
		case data.SUBMIT_SM:
			k++
		case data.DELIVER_SM_RESP:
			r++
		}
	})
	if k > 0 {
		c.once.Do(c.hold)
	}
	c.mu.Lock()
	if k > 0 {
		c.syscalls++
		c.submits += k
		c.mostInOne = max(c.mostInOne, k)
	}
	c.receipts += r
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// Against the simulator: a window of submits at once, the first one's write
// held until the others have queued behind it, leave in two syscalls, and
// the receipts their workers answer still reach the SMSC.
func TestConcurrentSubmitsShareWriteSyscalls(t *testing.T) {
	sim, addr := startSim(t, profile.Profile{})
	cfg := fastConfig(addr)
	cfg.Window = 50
	cfg.ResponseTimeout = 10 * time.Second
	cfg.EnquireLink = time.Minute // nothing but the test's PDUs on the wire
	cfg.Deliver = DeliverFunc(func(*pdu.DeliverSM, time.Time) data.CommandStatusType { return data.ESME_ROK })
	var b *Bind
	var conn atomic.Pointer[countingConn]
	cfg.Dial = func(addr string, timeout time.Duration) (net.Conn, error) {
		c, err := net.DialTimeout("tcp", addr, timeout)
		if err != nil {
			return nil, err
		}
		cc := &countingConn{Conn: c, hold: func() {
			// Inside the first submit's syscall: wait (bounded) for the
			// rest of the window to queue on the wire.
			for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
				b.mu.Lock()
				w := b.wires[b.sess]
				b.mu.Unlock()
				if w != nil && w.queued() >= cfg.Window-1 {
					return
				}
			}
		}}
		conn.Store(cc)
		return cc, nil
	}
	b = NewBind(cfg, "b1", good().get)
	b.Start()
	t.Cleanup(b.Close)
	waitState(t, b, StateBound)

	errs := make(chan error, cfg.Window)
	for i := range cfg.Window {
		go func() {
			r, err := b.Submit(context.Background(), newSubmit(t, fmt.Sprint("m", i)))
			if err == nil && !r.OK() {
				err = fmt.Errorf("status %s", r.Status)
			}
			errs <- err
		}()
	}
	for range cfg.Window {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	c := conn.Load()
	c.mu.Lock()
	syscalls, submits, most := c.syscalls, c.submits, c.mostInOne
	c.mu.Unlock()
	if submits != cfg.Window || syscalls != 2 || most != cfg.Window-1 {
		t.Fatalf("%d submit_sm in %d syscalls (at most %d in one), want %d in 2: the first alone, then the %d queued behind it",
			submits, syscalls, most, cfg.Window, cfg.Window-1)
	}
	if n := sim.Stats().Sum("op", "acme", "submit_sm", "ESME_ROK"); n != uint64(cfg.Window) {
		t.Fatalf("the SMSC accepted %d submit_sm", n)
	}
	smpptest.Eventually(t, 5*time.Second, 10*time.Millisecond, func() error {
		if n := sim.Stats().Sum("op", "acme", "receipt_resp", "ESME_ROK"); n != uint64(cfg.Window) {
			return fmt.Errorf("%d deliver_sm_resp", n)
		}
		return nil
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	t.Logf("%d deliver_sm_resp written by the workers", c.receipts)
}
