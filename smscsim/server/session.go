package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

type bindState int

const (
	stateOpen bindState = iota
	stateTX
	stateRX
	stateTRX
)

func (b bindState) String() string {
	return [...]string{"open", "transmitter", "receiver", "transceiver"}[b]
}

func (b bindState) canSubmit() bool  { return b == stateTX || b == stateTRX }
func (b bindState) canReceive() bool { return b == stateRX || b == stateTRX }

// session is one TCP connection from an ESME.
type session struct {
	id     uint64
	op     *Operator
	conn   net.Conn
	remote string
	since  time.Time

	mu    sync.Mutex
	state bindState
	acc   *account
	// password is the one the session bound with: kept (never shown) so
	// that SessionInfo can say whether the account still accepts it after
	// a rotation overlap ended.
	password string

	out       chan []byte
	done      chan struct{}
	wdone     chan struct{} // closed when the writer has returned
	closeOnce sync.Once
	wg        sync.WaitGroup

	outstanding atomic.Int32 // requests not answered yet
	requests    uint64       // reader goroutine only
	lastRecv    atomic.Int64
	seq         atomic.Int32 // our sequence numbers for deliver_sm, enquire_link, unbind

	dwin     chan struct{} // deliver_sm window slots
	pmu      sync.Mutex
	pending  map[int32]inflight
	unbindOK chan struct{}
}

func newSession(op *Operator, c net.Conn) *session {
	return &session{
		id: op.sim.session.Add(1), op: op, conn: c, remote: c.RemoteAddr().String(), since: time.Now(),
		out: make(chan []byte, 1024), done: make(chan struct{}), wdone: make(chan struct{}),
		dwin: make(chan struct{}, op.cfg.DeliverWindow), pending: map[int32]inflight{},
		unbindOK: make(chan struct{}, 1),
	}
}

func (s *session) bound() (bindState, *account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state, s.acc
}

func (s *session) accountID() string {
	if _, a := s.bound(); a != nil {
		return a.cfg.SystemID
	}
	return ""
}

func (s *session) info() SessionInfo {
	st, acc := s.bound()
	retired := false
	if acc != nil {
		s.mu.Lock()
		pw := s.password
		s.mu.Unlock()
		retired = !slices.Contains(*acc.passwords.Load(), pw)
	}
	return SessionInfo{ID: s.id, Operator: s.op.cfg.ID, Account: s.accountID(), BindType: st.String(),
		Remote: s.remote, Since: s.since, Outstanding: int(s.outstanding.Load()), PasswordRetired: retired}
}

func (s *session) run() {
	if err := s.handshake(); err != nil {
		// Not a session yet: nothing was bound, nothing is pending.
		s.op.sim.log.Warn("tls handshake failed", "operator", s.op.cfg.ID, "session", s.id, "remote", s.remote, "err", err)
		s.op.sim.stats.add(s.op.cfg.ID, "", "tls_handshake", "failed")
		s.conn.Close()
		s.op.forget(s)
		return
	}
	s.lastRecv.Store(time.Now().UnixNano())
	s.wg.Add(2)
	go s.writeLoop()
	go s.keepalive()
	s.safeReadLoop()
	s.close("")
	s.wg.Wait()
	s.requeuePending()
	s.op.forget(s)
	if st, acc := s.bound(); st != stateOpen {
		acc.binds.Add(-1)
	}
}

// tlsHandshakeTimeout bounds a TLS handshake, so that a peer that connects
// and says nothing does not hold a goroutine.
const tlsHandshakeTimeout = 10 * time.Second

// handshake runs the TLS handshake up front on a TLS listener's connection,
// so that a failure (a plaintext client, a client certificate the CA did
// not sign) is told apart from a session that ended, and counted.
func (s *session) handshake() error {
	tc, ok := s.conn.(*tls.Conn)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), tlsHandshakeTimeout)
	defer cancel()
	return tc.HandshakeContext(ctx)
}

// send queues bytes for the writer; it gives up once the session is closed.
func (s *session) send(b []byte) bool {
	select {
	case s.out <- b:
		return true
	case <-s.done:
		return false
	}
}

// writeLoop batches queued PDUs into as few writes as the peer lets us.
func (s *session) writeLoop() {
	defer s.wg.Done()
	defer close(s.wdone)
	bw := bufio.NewWriterSize(s.conn, 64<<10)
	for {
		select {
		case b := <-s.out:
			if _, err := bw.Write(b); err != nil {
				s.close("write: " + err.Error())
				return
			}
			for more := true; more; {
				select {
				case b := <-s.out:
					if _, err := bw.Write(b); err != nil {
						s.close("write: " + err.Error())
						return
					}
				default:
					more = false
				}
			}
			if err := bw.Flush(); err != nil {
				s.close("write: " + err.Error())
				return
			}
		case <-s.done:
			// Flush what was queued before the close (e.g. an unbind_resp).
			for {
				select {
				case b := <-s.out:
					bw.Write(b)
				default:
					bw.Flush()
					return
				}
			}
		}
	}
}

// closeFlushWait bounds how long a close waits for the writer to flush what
// was queued before it: a peer that stops reading must not hold the close.
const closeFlushWait = time.Second

// close ends the session; queued output is flushed by the writer on its way out.
func (s *session) close(reason string) {
	s.closeOnce.Do(func() {
		if reason != "" {
			s.op.sim.log.Info("session closed", "operator", s.op.cfg.ID, "session", s.id, "account", s.accountID(), "reason", reason)
		}
		close(s.done)
		go func() {
			// Once the writer has flushed what was queued (an unbind_resp, the
			// resp before a disconnect) and returned, cut the connection so the
			// reader unblocks; cut it anyway if the writer is stuck on a peer
			// that does not read (closing unblocks the writer too).
			t := time.NewTimer(closeFlushWait)
			defer t.Stop()
			select {
			case <-s.wdone:
			case <-t.C:
			}
			s.conn.Close()
		}()
	})
}

// unbindAndClose is the SMSC closing politely (shutdown): unbind, wait for the
// unbind_resp or the timeout, close.
func (s *session) unbindAndClose(wait time.Duration) {
	if st, _ := s.bound(); st != stateOpen {
		if s.send(wire.HeaderOnly(data.UNBIND, data.ESME_ROK, s.nextSeq())) {
			select {
			case <-s.unbindOK:
			case <-s.done:
			case <-time.After(wait):
			}
		}
	}
	s.close("simulator shutting down")
}

func (s *session) nextSeq() int32 {
	v := s.seq.Add(1) & 0x7FFFFFFF
	if v == 0 {
		v = s.seq.Add(1) & 0x7FFFFFFF
	}
	return v
}

// keepalive sends SMSC-initiated enquire_link and enforces the idle timeout,
// as the operator's profile says.
func (s *session) keepalive() {
	defer s.wg.Done()
	el, idle := s.op.prof.EnquireLinkInterval.D, s.op.prof.IdleTimeout.D
	if el <= 0 && idle <= 0 {
		<-s.done
		return
	}
	tick := el
	if tick <= 0 || (idle > 0 && idle/4 < tick) {
		tick = max(idle/4, 10*time.Millisecond)
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	lastEL := time.Now()
	for {
		select {
		case <-s.done:
			return
		case now := <-t.C:
			last := time.Unix(0, s.lastRecv.Load())
			if idle > 0 && now.Sub(last) >= idle {
				s.send(wire.HeaderOnly(data.UNBIND, data.ESME_ROK, s.nextSeq()))
				s.op.sim.stats.add(s.op.cfg.ID, s.accountID(), "unbind", "idle_timeout")
				s.close("idle timeout")
				return
			}
			if st, _ := s.bound(); el > 0 && st != stateOpen && now.Sub(lastEL) >= el {
				lastEL = now
				s.send(wire.HeaderOnly(data.ENQUIRE_LINK, data.ESME_ROK, s.nextSeq()))
				s.op.sim.stats.add(s.op.cfg.ID, s.accountID(), "enquire_link", "sent")
			}
		}
	}
}

// safeReadLoop keeps a bug triggered by one peer's PDU from taking the whole
// simulator (every other operator and session) down with it.
func (s *session) safeReadLoop() {
	defer func() {
		if r := recover(); r != nil {
			s.op.sim.log.Error("session handler panic", "operator", s.op.cfg.ID, "session", s.id, "panic", r, "stack", string(debug.Stack()))
			s.op.sim.stats.add(s.op.cfg.ID, s.accountID(), "session", "panic")
		}
	}()
	s.readLoop()
}

func (s *session) readLoop() {
	br := bufio.NewReaderSize(s.conn, 64<<10)
	for {
		f, err := wire.ReadFrame(br, wire.DefaultMaxLen)
		if err != nil {
			if errors.Is(err, wire.ErrLengthOutOfRange) {
				// The stream cannot be resynchronised: say why, then hang up.
				s.malformed(f.Header, err, data.ESME_RINVCMDLEN)
				s.close("malformed PDU: " + err.Error())
			} else if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.close("read: " + err.Error())
			}
			return
		}
		s.lastRecv.Store(time.Now().UnixNano())
		if wire.IsResponse(f.Header.CommandID) {
			s.handleResponse(f.Header)
			continue
		}
		p, err := wire.Decode(f)
		if err != nil {
			status := data.ESME_RINVCMDLEN
			if errors.Is(err, wire.ErrUnknownCommand) {
				status = data.ESME_RINVCMDID
			}
			s.malformed(f.Header, err, status)
			continue
		}
		s.requests++
		s.outstanding.Add(1)
		s.handleRequest(p)
	}
}

// malformed answers a PDU that could not be read with generic_nack and
// records why.
func (s *session) malformed(h pdu.Header, err error, status data.CommandStatusType) {
	s.op.sim.log.Warn("malformed PDU", "operator", s.op.cfg.ID, "session", s.id, "command_id", uint32(h.CommandID),
		"command_length", uint32(h.CommandLength), "sequence", h.SequenceNumber, "err", err)
	s.op.sim.stats.add(s.op.cfg.ID, s.accountID(), "malformed", wire.StatusName(status))
	s.op.sim.Recorder.Add(recorder.Record{
		Time: time.Now(), Operator: s.op.cfg.ID, Account: s.accountID(), SessionID: s.id,
		Command: wire.CommandName(h.CommandID), Sequence: h.SequenceNumber,
		Status: "generic_nack " + wire.StatusName(status), Error: err.Error(),
	})
	s.send(wire.GenericNack(status, h.SequenceNumber))
}

// handleResponse processes the ESME's answers to what we sent.
func (s *session) handleResponse(h pdu.Header) {
	switch h.CommandID {
	case data.DELIVER_SM_RESP, data.DATA_SM_RESP, data.GENERIC_NACK:
		// Unlike gosmpp, a generic_nack is matched to its request by sequence
		// number, so it frees the window slot too. A data_sm (a receipt sent
		// as data_sm) is answered by data_sm_resp and takes the same path.
		s.pmu.Lock()
		in, ok := s.pending[h.SequenceNumber]
		delete(s.pending, h.SequenceNumber)
		s.pmu.Unlock()
		if !ok {
			s.op.sim.stats.add(s.op.cfg.ID, s.accountID(), wire.CommandName(h.CommandID), "unexpected")
			return
		}
		<-s.dwin
		ob := in.ob
		if h.CommandID != data.GENERIC_NACK {
			s.op.sim.DeliverResp.Add(time.Since(in.sent))
		}
		kind := "receipt"
		if !ob.receipt {
			kind = "mo"
		}
		s.op.sim.stats.add(s.op.cfg.ID, s.accountID(), kind+"_resp", wire.StatusName(h.CommandStatus))
		if want := ob.pdu.Command() | data.GENERIC_NACK; h.CommandID != data.GENERIC_NACK && h.CommandID != want {
			// A deliver_sm_resp to a data_sm (or the reverse): taken as the
			// answer, as SMSCs do, but counted so that a test can see it.
			s.op.sim.stats.add(s.op.cfg.ID, s.accountID(), kind+"_resp", "mismatched "+wire.CommandName(h.CommandID))
		}
		if h.CommandStatus != data.ESME_ROK && temporary(h.CommandStatus) {
			// The ESME asked us to try again later, as an SMSC would.
			_, acc := s.bound()
			time.AfterFunc(time.Second, func() { s.op.enqueue(acc, ob) })
		}
	case data.UNBIND_RESP:
		select {
		case s.unbindOK <- struct{}{}:
		default:
		}
	case data.ENQUIRE_LINK_RESP:
		s.op.sim.stats.add(s.op.cfg.ID, s.accountID(), "enquire_link_resp", wire.StatusName(h.CommandStatus))
	default:
		s.op.sim.stats.add(s.op.cfg.ID, s.accountID(), wire.CommandName(h.CommandID), "unexpected")
	}
}

func temporary(st data.CommandStatusType) bool {
	switch st {
	case data.ESME_RTHROTTLED, data.ESME_RMSGQFUL, data.ESME_RX_T_APPN, data.ESME_RSYSERR:
		return true
	}
	return false
}

// pump feeds receipts and MO from the account queue to a receiving bind,
// keeping at most DeliverWindow unanswered. What is ready is sent as one
// batch, so a busy bind costs one write per batch rather than per receipt.
func (s *session) pump(acc *account) {
	defer s.wg.Done()
	const maxBatch = 64
	for {
		select {
		case s.dwin <- struct{}{}:
		case <-s.done:
			return
		}
		var ob *outbound
		select {
		case ob = <-acc.queue:
		case <-s.done:
			<-s.dwin
			return
		}
		buf := make([]byte, 0, 4096)
		s.pmu.Lock()
		sent := time.Now() // one reading for the batch: it goes out in one write
		for n := 0; ; n++ {
			seq := s.nextSeq()
			s.pending[seq] = inflight{ob, sent}
			buf = ob.pdu.Append(buf, seq)
			if n == maxBatch {
				break
			}
			// Take more only while both a window slot and an item are ready.
			select {
			case s.dwin <- struct{}{}:
			default:
				ob = nil
			}
			if ob == nil {
				break
			}
			select {
			case ob = <-acc.queue:
				continue
			default:
				<-s.dwin
			}
			break
		}
		s.pmu.Unlock()
		if !s.send(buf) {
			return
		}
	}
}

// requeuePending gives deliver_sm that were never answered back to the
// account, so a receipt is not lost when the ESME drops the connection.
func (s *session) requeuePending() {
	_, acc := s.bound()
	if acc == nil {
		return
	}
	s.pmu.Lock()
	defer s.pmu.Unlock()
	for seq, in := range s.pending {
		delete(s.pending, seq)
		s.op.enqueue(acc, in.ob)
	}
}

// inflight is a deliver_sm sent and not answered yet, with when it was sent
// (Sim.DeliverResp).
type inflight struct {
	ob   *outbound
	sent time.Time
}

// event builds the fault event for a request.
func (s *session) event(h pdu.Header, dest string, now time.Time) faults.Event {
	return faults.Event{
		Operator: s.op.cfg.ID, Account: s.accountID(), SessionID: s.id, Command: h.CommandID,
		Sequence: h.SequenceNumber, Dest: dest, SessionRequests: s.requests,
		Outstanding: int(s.outstanding.Load()), Now: now,
	}
}
