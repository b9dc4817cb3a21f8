package load

import (
	"bufio"
	"context"
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

	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// BindError is a bind refused by the SMSC.
type BindError struct {
	Role   string // trx, tx, rx
	Addr   string
	Status data.CommandStatusType
}

func (e *BindError) Error() string {
	return fmt.Sprintf("bind %s %s: %s", e.Role, e.Addr, wire.StatusName(e.Status))
}

const (
	bufSize    = 64 << 10
	ctrlQueue  = 8192
	keepalive  = 30 * time.Second
	seqBind    = 1
	seqUnbind  = 2
	seqEnquire = 3
	maxSeq     = 0x7FFFFFFF
	nackKey    = 1 << 32 // rejectedBy key bit for generic_nack statuses
)

// ctrlMsg is a body-less PDU the reader asks the writer to send.
type ctrlMsg struct{ cmd, status, seq uint32 }

// slot is one window position. seq is 0 when free; t is the send time (ns since
// the run's base).
type slot struct {
	seq atomic.Uint32
	t   atomic.Int64
}

// bind is one SMPP session: a reader goroutine and a writer goroutine.
type bind struct {
	r    *runner
	idx  int
	role string
	send bool // submits (trx, tx) or only receives (rx)
	conn net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer

	// window
	sem   chan uint32
	slots []slot
	gen   []uint32 // writer-owned generation per slot
	shift uint

	ctrl       chan ctrlMsg
	unbindCh   chan struct{} // closed by the runner: send unbind
	sendDone   chan struct{} // closed by the writer when it stops submitting
	readerDone chan struct{}
	writerDone chan struct{}

	dead    atomic.Bool
	errMu   sync.Mutex
	err     error
	unbound atomic.Bool // unbind_resp received

	sent, accepted, rejected, timedOut, nacks, receipts, mo, late atomic.Uint64
	lastSent, lastResp, lastReceipt                               atomic.Int64

	// reader-owned
	rejectedBy map[uint64]uint64 // status, | nackKey for generic_nack
	respHist   hist
	rcptHist   hist
}

func (b *bind) name() string {
	if b.r.cfg.Binds == 1 && b.role != "rx" {
		return fmt.Sprintf("bind %s %s", b.role, b.r.cfg.Addr)
	}
	return fmt.Sprintf("bind %s %s #%d", b.role, b.r.cfg.Addr, b.idx+1)
}

// fail records the first error and closes the connection.
func (b *bind) fail(err error) {
	b.errMu.Lock()
	if b.err == nil && !b.r.closing.Load() {
		b.err = fmt.Errorf("%s: %w (after %d submit_sm)", b.name(), err, b.sent.Load())
	}
	b.errMu.Unlock()
	b.dead.Store(true)
	b.conn.Close()
}

func (b *bind) error() error {
	b.errMu.Lock()
	defer b.errMu.Unlock()
	return b.err
}

// dial connects and binds. Errors read like "bind trx 127.0.0.1:2775: ESME_RINVPASWD".
func dial(ctx context.Context, r *runner, idx int, role string) (*bind, error) {
	cfg := r.cfg
	b := &bind{r: r, idx: idx, role: role, send: role != "rx"}
	prefix := fmt.Sprintf("bind %s %s", role, cfg.Addr)
	d := net.Dialer{Timeout: cfg.ConnectTimeout}
	conn, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prefix, err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	b.conn = conn
	b.br = bufio.NewReaderSize(conn, wire.DefaultMaxLen)
	b.bw = bufio.NewWriterSize(conn, bufSize)

	bt := pdu.Transceiver
	switch role {
	case "tx":
		bt = pdu.Transmitter
	case "rx":
		bt = pdu.Receiver
	}
	req := pdu.NewBindRequest(bt)
	req.SystemID, req.Password, req.SystemType = cfg.SystemID, cfg.Password, cfg.SystemType
	req.SetSequenceNumber(seqBind)
	_ = conn.SetDeadline(time.Now().Add(cfg.ConnectTimeout))
	if _, err := conn.Write(wire.Encode(req)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("%s: send bind: %w", prefix, ctxErr(ctx, err))
	}
	for {
		f, err := wire.ReadFrame(b.br, wire.DefaultMaxLen)
		if err != nil {
			conn.Close()
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil, fmt.Errorf("%s: no bind_resp within %s", prefix, cfg.ConnectTimeout)
			}
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%s: connection closed by the SMSC before bind_resp", prefix)
			}
			return nil, fmt.Errorf("%s: read bind_resp: %w", prefix, ctxErr(ctx, err))
		}
		id := uint32(f.Header.CommandID)
		if id == uint32(req.CommandID)|0x80000000 || id == cmdGenericNack {
			if f.Header.CommandStatus != data.ESME_ROK {
				conn.Close()
				return nil, &BindError{Role: role, Addr: cfg.Addr, Status: f.Header.CommandStatus}
			}
			if id == cmdGenericNack {
				conn.Close()
				return nil, fmt.Errorf("%s: generic_nack to bind", prefix)
			}
			break
		}
		// Something before bind_resp (enquire_link...): answer requests, ignore the rest.
		if !wire.IsResponse(f.Header.CommandID) {
			resp := appendHeader(nil, id|0x80000000, 0, uint32(f.Header.SequenceNumber))
			if id != cmdEnquireLink {
				resp = appendHeader(nil, cmdGenericNack, statusInvCmdID, uint32(f.Header.SequenceNumber))
			}
			if _, err := conn.Write(resp); err != nil {
				conn.Close()
				return nil, fmt.Errorf("%s: %w", prefix, err)
			}
		}
	}
	_ = conn.SetDeadline(time.Time{})

	// Window slots: a power of two, at least 4 so that submit sequence
	// numbers (generation >= 1 above the slot bits) never equal seqBind,
	// seqUnbind or seqEnquire.
	b.shift = 2
	for 1<<b.shift < cfg.Window {
		b.shift++
	}
	w := 1 << b.shift
	b.sem = make(chan uint32, cfg.Window)
	b.slots = make([]slot, w)
	b.gen = make([]uint32, w)
	for i := 0; i < cfg.Window; i++ {
		b.sem <- uint32(i)
	}
	b.ctrl = make(chan ctrlMsg, ctrlQueue)
	b.unbindCh = make(chan struct{})
	b.sendDone = make(chan struct{})
	b.readerDone = make(chan struct{})
	b.writerDone = make(chan struct{})
	b.rejectedBy = map[uint64]uint64{}
	return b, nil
}

// readErr words a read error without repeating the addresses.
func readErr(err error) error {
	if errors.Is(err, io.EOF) {
		return errors.New("read: connection closed by the SMSC")
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err // "read: connection reset by peer"
	}
	return fmt.Errorf("read: %w", err)
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func (b *bind) start() {
	go b.readLoop()
	go b.writeLoop()
}

func (b *bind) outstanding() int { return b.r.cfg.Window - len(b.sem) }

// nextSeq returns the sequence number for a submit in window slot idx: the
// slot index in the low bits and a per-slot generation above, never 0 and
// never one of the control sequence numbers (generation 0).
func (b *bind) nextSeq(idx uint32) uint32 {
	g := b.gen[idx] + 1
	if uint64(g)<<b.shift > maxSeq {
		g = 1
	}
	b.gen[idx] = g
	return g<<b.shift | idx
}

// flush writes the buffer out. False when the connection is broken.
func (b *bind) flush() bool {
	if b.bw.Buffered() == 0 {
		return true
	}
	_ = b.conn.SetWriteDeadline(time.Now().Add(b.r.cfg.RespTimeout))
	if err := b.bw.Flush(); err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Err != nil {
			err = oe.Err
		}
		b.fail(fmt.Errorf("write: %w", err))
		return false
	}
	return true
}

func (b *bind) writeCtrl(c ctrlMsg) {
	buf := b.bw.AvailableBuffer()
	if cap(buf) < wire.HeaderLen+1 {
		if !b.flush() {
			return
		}
		buf = b.bw.AvailableBuffer()
	}
	_, _ = b.bw.Write(appendHeader(buf, c.cmd, c.status, c.seq))
}

func (b *bind) writeLoop() {
	defer close(b.writerDone)
	ka := time.NewTicker(keepalive)
	defer ka.Stop()
	if b.send {
		b.sendLoop(ka)
		b.flush()
	}
	close(b.sendDone)
	unbind := b.unbindCh
	for {
		select {
		case c := <-b.ctrl:
			b.writeCtrl(c)
			if len(b.ctrl) == 0 {
				b.flush()
			}
		case <-unbind:
			unbind = nil
			b.writeCtrl(ctrlMsg{cmdUnbind, 0, seqUnbind})
			b.flush()
		case <-ka.C:
			b.writeCtrl(ctrlMsg{cmdEnquireLink, 0, seqEnquire})
			b.flush()
		case <-b.readerDone:
			return
		}
	}
}

// sendLoop submits until the count or time is reached, the run is stopped or
// the bind breaks. Writes are batched in the buffer and flushed whenever the
// writer would otherwise wait.
func (b *bind) sendLoop(ka *time.Ticker) {
	r := b.r
	var timer *time.Timer
	if r.lim != nil {
		timer = time.NewTimer(time.Hour)
		timer.Stop()
	}
	for {
		if r.stopping.Load() || b.dead.Load() {
			return
		}
		var idx uint32
		select {
		case idx = <-b.sem:
		case c := <-b.ctrl:
			b.writeCtrl(c)
			continue
		default:
			if !b.flush() {
				return
			}
			select {
			case idx = <-b.sem:
			case c := <-b.ctrl:
				b.writeCtrl(c)
				continue
			case <-ka.C:
				b.writeCtrl(ctrlMsg{cmdEnquireLink, 0, seqEnquire})
				continue
			case <-r.stopCh:
				return
			case <-b.readerDone:
				return
			}
		}
		n := r.claimed.Add(1)
		if r.cfg.N > 0 && n > uint64(r.cfg.N) {
			b.sem <- idx
			return
		}
		if r.lim != nil && !b.pace(timer) {
			b.sem <- idx
			return
		}
		t := r.now()
		seq := b.nextSeq(idx)
		s := &b.slots[idx]
		s.t.Store(t)
		s.seq.Store(seq)
		buf := b.bw.AvailableBuffer()
		if cap(buf) < r.tmpl.maxLen {
			if !b.flush() {
				return
			}
			buf = b.bw.AvailableBuffer()
		}
		buf = r.tmpl.appendSubmit(buf, seq, n)
		_, _ = b.bw.Write(buf)
		b.sent.Add(1)
		b.lastSent.Store(t)
	}
}

// pace waits for a token of the global limiter, serving control PDUs while it
// waits. False when the run stops meanwhile.
func (b *bind) pace(timer *time.Timer) bool {
	r := b.r
	for {
		now := time.Now()
		if r.lim.AllowN(now, 1) {
			return true
		}
		// Sleep until about 1 ms worth of tokens is there (at least one), then
		// send those back to back and flush once: even at the millisecond
		// scale, without a write system call per message at high rates.
		wait := time.Duration((r.paceTokens - r.lim.TokensAt(now)) / float64(r.lim.Limit()) * float64(time.Second))
		if wait < 20*time.Microsecond {
			wait = 20 * time.Microsecond
		}
		if !b.flush() {
			return false
		}
		timer.Reset(wait)
	waiting:
		for {
			select {
			case <-timer.C:
				break waiting
			case c := <-b.ctrl:
				b.writeCtrl(c)
				if len(b.ctrl) == 0 && !b.flush() {
					timer.Stop()
					return false
				}
			case <-r.stopCh:
				timer.Stop()
				return false
			case <-b.readerDone:
				timer.Stop()
				return false
			}
		}
	}
}

// toWriter hands a control PDU to the writer.
func (b *bind) toWriter(c ctrlMsg) {
	select {
	case b.ctrl <- c:
	case <-b.writerDone:
	}
}

func (b *bind) readLoop() {
	defer close(b.readerDone)
	r := b.r
	for {
		hdr, err := b.br.Peek(wire.HeaderLen)
		if err != nil {
			if !b.unbound.Load() {
				b.fail(readErr(err))
			}
			return
		}
		n := int(binary.BigEndian.Uint32(hdr))
		if n < wire.HeaderLen || n > wire.DefaultMaxLen {
			b.fail(fmt.Errorf("read: %w: %d", wire.ErrLengthOutOfRange, n))
			return
		}
		frame, err := b.br.Peek(n)
		if err != nil {
			b.fail(readErr(err))
			return
		}
		cmd := binary.BigEndian.Uint32(frame[4:])
		status := binary.BigEndian.Uint32(frame[8:])
		seq := binary.BigEndian.Uint32(frame[12:])
		body := frame[wire.HeaderLen:]
		switch cmd {
		case cmdSubmitSMResp:
			b.onResp(seq, status, body, false)
		case cmdGenericNack:
			b.nacks.Add(1)
			b.onResp(seq, status, nil, true)
		case cmdDeliverSM, cmdDataSM:
			var in incoming
			var ok bool
			if cmd == cmdDeliverSM {
				in, ok = parseDeliverSM(body)
			} else {
				in, ok = parseDataSM(body)
			}
			if !ok {
				b.toWriter(ctrlMsg{cmdGenericNack, uint32(data.ESME_RINVMSGLEN), seq})
				break
			}
			if in.isReceipt() {
				now := r.now()
				if r.track != nil {
					if at, ok := r.track.receipt(in.id(), now); ok {
						b.rcptHist.record(now - at)
					}
				}
				b.receipts.Add(1)
				b.lastReceipt.Store(now)
			} else {
				b.mo.Add(1)
			}
			b.toWriter(ctrlMsg{cmd | 0x80000000, 0, seq})
		case cmdEnquireLink:
			b.toWriter(ctrlMsg{cmdEnquireLinkResp, 0, seq})
		case cmdUnbind:
			if !r.closing.Load() {
				b.fail(errors.New("the SMSC sent unbind"))
			}
			b.toWriter(ctrlMsg{cmdUnbindResp, 0, seq})
		case cmdUnbindResp:
			b.unbound.Store(true)
			_, _ = b.br.Discard(n)
			return
		default:
			if cmd&0x80000000 == 0 {
				b.toWriter(ctrlMsg{cmdGenericNack, statusInvCmdID, seq})
			}
		}
		_, _ = b.br.Discard(n)
	}
}

// onResp releases the window slot of seq and counts the answer.
func (b *bind) onResp(seq, status uint32, body []byte, nack bool) {
	r := b.r
	idx := seq & (1<<b.shift - 1)
	if seq == 0 || int(idx) >= len(b.slots) || !b.slots[idx].seq.CompareAndSwap(seq, 0) {
		if !nack {
			b.late.Add(1) // unknown or already timed out
		}
		return
	}
	sentAt := b.slots[idx].t.Load()
	b.sem <- idx
	now := r.now()
	b.lastResp.Store(now)
	b.respHist.record(now - sentAt)
	if nack || status != 0 {
		k := uint64(status)
		if nack {
			k |= nackKey
		}
		b.rejectedBy[k]++
		b.rejected.Add(1)
		return
	}
	if r.track != nil {
		id, _, ok := cstring(body)
		if !ok {
			id = body
		}
		if lat, ok := r.track.submitted(id, sentAt); ok {
			b.rcptHist.record(lat)
		}
	}
	b.accepted.Add(1)
}

// sweep counts submits without answer after RespTimeout and frees their slots.
func (b *bind) sweep(now int64) {
	limit := int64(b.r.cfg.RespTimeout)
	for i := 0; i < b.r.cfg.Window; i++ {
		s := &b.slots[i]
		seq := s.seq.Load()
		if seq == 0 || now-s.t.Load() < limit {
			continue
		}
		if s.seq.CompareAndSwap(seq, 0) {
			b.timedOut.Add(1)
			b.sem <- uint32(i)
		}
	}
}
