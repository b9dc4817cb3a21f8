package session

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/linxGnu/gosmpp"
	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
)

// Bind is one SMPP bind that keeps itself up.
type Bind struct {
	cfg   Config
	creds func(context.Context) (Auth, error)
	name  string

	mu       sync.Mutex
	addr     string // the address in use or being tried
	endpoint int    // addr's index in [cfg.Addr, cfg.Backups...]
	state    State
	lastErr  error
	sess     *gosmpp.Session
	bound    chan struct{}  // closed while bound; replaced when the bind drops
	changed  chan struct{}  // closed and replaced on every state change
	rejected string         // credential version the SMSC refused for good
	working  Auth           // the credential of the last successful bind (renew.go)
	gen      atomic.Uint64  // bumped by every state change (setStateLocked) and when a renewal swaps the session under the pool
	retiring sync.WaitGroup // old sessions draining after a renewal
	closing  bool
	onBound  func(up bool) // the pool's epoch (epoch.go): entering or leaving StateBound
	// live ends at the next state change or Close: a submit waiting for
	// its TPS grant (pace.go) gives up when the bind leaves its session.
	live    context.Context
	endLive context.CancelFunc

	window   *window       // window.go: resizable while submits wait
	freed    chan struct{} // a token each time a submit leaves the window: drain looks again
	workers  chan struct{}
	delivers sync.WaitGroup // deliver_sm handlers still running

	// wires holds each open session's connection (under mu): Submit writes
	// on it, not through gosmpp (wire.go).
	wires map[*gosmpp.Session]*wireConn

	pmu     sync.Mutex
	pending map[int32]*call

	inRow      atomic.Int32 // submit_sm timed out since the last resp
	elAnswered atomic.Int32 // sequence number of the last enquire_link_resp
	dead       chan *deadError

	kick      chan struct{}
	renew     chan *renewal
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once

	Stats Stats
}

// Stats are a bind's counters.
type Stats struct {
	Binds, BindFailures, Failovers, Submits, Timeouts, NotSent, LateResponses, Delivers atomic.Uint64
	// Dead binds by reason: consecutive response timeouts, unanswered enquire_link.
	DeadTimeouts, DeadEnquireLink atomic.Uint64
}

type call struct {
	done    chan struct{}
	res     Result
	err     error
	written atomic.Bool // its bytes reached the socket: the SMSC may have it
}

// NewBind prepares a bind; Start brings it up. creds is asked for the
// credentials before every bind attempt, so a rotation is picked up.
func NewBind(cfg Config, name string, creds func(context.Context) (Auth, error)) *Bind {
	cfg.defaults()
	live, endLive := context.WithCancel(context.Background())
	return &Bind{
		cfg: cfg, creds: creds, name: name, state: StateConnecting, live: live, endLive: endLive,
		bound: make(chan struct{}), changed: make(chan struct{}),
		window: newWindow(cfg.Window), freed: make(chan struct{}, 1), workers: make(chan struct{}, cfg.DeliverWorkers),
		pending: map[int32]*call{}, wires: map[*gosmpp.Session]*wireConn{}, dead: make(chan *deadError, 1), kick: make(chan struct{}, 1), renew: make(chan *renewal, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
}

// Start runs the bind loop until Close.
func (b *Bind) Start() { go b.run() }

// Outstanding is the number of submit_sm waiting for their resp.
func (b *Bind) Outstanding() int { return b.window.outstanding() }

// SetWindow changes the most submit_sm the bind has outstanding, at once:
// submits waiting for room are admitted when it grows; when it shrinks, those
// outstanding are answered as usual and new ones wait for room.
func (b *Bind) SetWindow(n int) { b.window.setLimit(n) }

// Window is the most submit_sm the bind has outstanding now.
func (b *Bind) Window() int { return b.window.size() }

// Changed returns a channel closed at the next state change.
func (b *Bind) Changed() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.changed
}

// Kick makes a bind waiting on backoff or on new credentials try again now
// (the secrets watcher calls it when a new version appears).
func (b *Bind) Kick() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

func (b *Bind) log() func(msg string, args ...any) {
	return func(msg string, args ...any) {
		b.cfg.Log.Info(msg, append([]any{"operator", b.cfg.Operator, "bind", b.name, "addr", b.Addr()}, args...)...)
	}
}

// sleep waits d, or until a kick or Close; it reports false on Close.
func (b *Bind) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-b.kick:
	case <-b.stop:
		return false
	}
	return true
}

func (b *Bind) run() {
	defer close(b.done)
	defer b.setState(StateClosed, ErrClosed)
	logInfo := b.log()
	backoff := b.cfg.BackoffInitial
	addrs := append([]string{b.cfg.Addr}, b.cfg.Backups...)
	at, failures := 0, 0
	var deadErr error     // why the last session was declared dead, until bound again
	var renewing *renewal // a renewal answered by the next bind attempt's outcome
run:
	for {
		select {
		case <-b.stop:
			renewing.answer(ErrClosed)
			return
		case r := <-b.renew:
			// Not bound: the next attempt asks for the credential anyway.
			renewing.answer(nil)
			renewing = r
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), b.cfg.BindTimeout)
		auth, err := b.creds(ctx)
		cancel()
		if err != nil {
			b.setState(StateBackoff, fmt.Errorf("credentials: %w", err))
			b.cfg.Log.Warn("no credentials", "operator", b.cfg.Operator, "bind", b.name, "err", err)
			if !b.sleep(jitter(backoff)) {
				return
			}
			backoff = min(2*backoff, b.cfg.BackoffMax)
			continue
		}
		auth, fallback, refused := b.credential(auth)
		if fallback {
			logInfo("binding with the previous credential: the current one was refused", "credential", auth)
		}
		if refused {
			// Binding again with credentials the SMSC refused would only lock
			// the account: wait for a new version.
			if !b.sleep(b.cfg.CredentialRecheck) {
				return
			}
			continue
		}

		b.mu.Lock()
		b.addr, b.endpoint = addrs[at], at
		b.mu.Unlock()
		b.setState(StateConnecting, deadErr)
		sess, closed, err := b.connect(auth, addrs[at])
		if err != nil {
			b.bindFailed(err) // tls.go
			var be gosmpp.BindError
			if errors.As(err, &be) && permanentBindError(be.CommandStatus) {
				b.mu.Lock()
				b.rejected = auth.Version
				b.mu.Unlock()
				b.setState(StateAuthFailed, err)
				b.cfg.Log.Error("bind refused for good: not retrying until the credentials change",
					"operator", b.cfg.Operator, "bind", b.name, "addr", addrs[at], "status", be.CommandStatus.String(), "credential", auth)
				renewing.answer(fmt.Errorf("%w: version %s: %w", ErrCredentialRefused, auth.Version, err))
				renewing = nil
				continue // with the previous credential at once, if one worked (credential)
			}
			b.setState(StateBackoff, withDead(err, deadErr))
			b.cfg.Log.Warn("bind failed", "operator", b.cfg.Operator, "bind", b.name, "addr", addrs[at], "err", err, "retry_in", backoff)
			if failures++; len(addrs) > 1 && failures >= b.cfg.FailoverAfter {
				at, failures = (at+1)%len(addrs), 0
				b.failover(addrs[at])
				backoff = b.cfg.BackoffInitial
				continue
			}
			if !b.sleep(jitter(backoff)) {
				return
			}
			backoff = min(2*backoff, b.cfg.BackoffMax)
			continue
		}
		backoff, failures, deadErr = b.cfg.BackoffInitial, 0, nil
		b.Stats.Binds.Add(1)
		b.inRow.Store(0)
		select {
		case <-b.dead: // a stale verdict on the previous session
		default:
		}
		b.mu.Lock()
		b.sess, b.working = sess, auth
		if !fallback {
			b.rejected = ""
		}
		b.mu.Unlock()
		b.setState(StateBound, nil)
		logInfo("bound", "credential", auth)
		if !fallback {
			renewing.answer(nil)
			renewing = nil
		}
		stopWatch := make(chan struct{})
		go b.watchLink(sess, stopWatch)

	serve:
		select {
		case de := <-b.dead:
			close(stopWatch)
			deadErr = de
			b.deadDrop(sess, de)
			if len(addrs) > 1 {
				// A black hole answers no bind either: go to the next endpoint now.
				at = (at + 1) % len(addrs)
				b.failover(addrs[at])
				continue
			}
			if !b.sleep(jitter(b.cfg.BackoffInitial)) {
				return
			}
		case r := <-b.renew:
			// Make before break (renew.go): a session with the new credential
			// beside the working one.
			nb := b.openBeside(addrs[at])
			switch {
			case nb.sess != nil:
				close(stopWatch)
				inflight := b.swap(nb.sess, nb.auth)
				b.Stats.Binds.Add(1)
				b.retiring.Add(1)
				go b.retire(sess, inflight)
				sess, closed = nb.sess, nb.closed
				logInfo("renewed: new session bound beside the old one, which drains and unbinds", "credential", nb.auth)
				stopWatch = make(chan struct{})
				go b.watchLink(sess, stopWatch)
				r.answer(nil)
				goto serve
			case !nb.breakFirst:
				if errors.Is(nb.err, ErrCredentialRefused) {
					r.answer(nb.err)
				} else {
					b.cfg.Log.Warn("renewal: no session beside the working one, retrying", "operator", b.cfg.Operator, "bind", b.name, "err", nb.err)
					b.retryRenewal(r)
				}
				goto serve
			}
			// The SMSC allows no second bind: break before make, and the
			// next bind attempt's outcome answers the renewal.
			renewing.answer(nil)
			renewing = r
			close(stopWatch)
			// New credentials: finish what is in flight, unbind, bind again.
			// One critical section: a submit must never find the bind
			// closing and still bound, or the pool takes its "not sent:
			// session closed" for final instead of waiting for the new
			// session (TestRenewalNeverShowsAClosingBoundBind).
			b.mu.Lock()
			b.closing = true
			b.setStateLocked(StateConnecting, errors.New("renewing")) // the pool sends elsewhere meanwhile
			b.mu.Unlock()
			if testHookRenewClosing != nil {
				testHookRenewClosing()
			}
			b.drain()
			sess.Close()
			b.mu.Lock()
			b.closing = false
			b.mu.Unlock()
			b.dropped(errors.New("renewing the bind with new credentials"))
			logInfo("renewing bind with new credentials (break before make: the SMSC allows no second bind)")
			continue run
		case reason := <-closed:
			close(stopWatch)
			b.dropped(fmt.Errorf("bind lost: %s", reason))
			logInfo("bind lost, rebinding", "reason", reason)
			at = 0 // the primary first again
			if !b.sleep(jitter(b.cfg.BackoffInitial)) {
				return
			}
		case <-b.stop:
			close(stopWatch)
			renewing.answer(ErrClosed)
			b.drain()
			sess.Close()
			b.retiring.Wait()
			// Receipts being stored finish before the caller closes the store.
			b.delivers.Wait()
			b.dropped(ErrClosed)
			return
		}
	}
}

// dropped fails every submit still waiting on the lost bind.
func (b *Bind) dropped(err error) {
	b.mu.Lock()
	b.sess = nil
	b.mu.Unlock()
	b.setState(StateBackoff, err)
	b.pmu.Lock()
	for seq, c := range b.pending {
		delete(b.pending, seq)
		if c.written.Load() {
			c.err = fmt.Errorf("%w: %w", ErrUnknown, err) // the cause stays readable: UnknownReason
		} else {
			// Not yet written, or refused by the wire (wire.go): none of
			// its bytes left, so safe to send again.
			b.Stats.NotSent.Add(1)
			c.err = fmt.Errorf("%w: %v", ErrNotSent, err)
		}
		close(c.done)
	}
	b.pmu.Unlock()
}

func jitter(d time.Duration) time.Duration {
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// connect dials with a timeout, puts a deadline on the bind_resp and starts a
// gosmpp session with its own rebinding disabled.
func (b *Bind) connect(auth Auth, addr string) (*gosmpp.Session, <-chan string, error) {
	var wire atomic.Pointer[wireConn]
	dialer := func(addr string) (net.Conn, error) {
		c, err := b.dial(addr) // TCP, and TLS when the endpoint has it (tls.go)
		if err != nil {
			return nil, err
		}
		// gosmpp reads the bind_resp with no deadline of its own.
		_ = c.SetDeadline(time.Now().Add(b.cfg.BindTimeout))
		w := newWireConn(c, b.cfg.WriteTimeout)
		wire.Store(w)
		return w, nil
	}
	ga := gosmpp.Auth{SMSC: addr, SystemID: auth.SystemID, Password: auth.Password, SystemType: auth.SystemType}
	var conn gosmpp.Connector
	kind := b.cfg.BindType
	switch kind {
	case Transmitter:
		conn = gosmpp.TXConnector(dialer, ga)
	case Receiver:
		conn = gosmpp.RXConnector(dialer, ga)
	default:
		conn = gosmpp.TRXConnector(dialer, ga)
	}
	closed := make(chan string, 1)
	var sessRef atomic.Pointer[gosmpp.Session]
	var over atomic.Bool // OnClosed has run: the session's wire is forgotten
	sess, err := gosmpp.NewSession(conn, gosmpp.Settings{
		// A live link reads at least our enquire_link's answer every
		// EnquireLink + ResponseTimeout (watchLink waits for it before the
		// next); silence beyond twice the interval plus that wait is a dead
		// connection that watchLink has not caught.
		ReadTimeout:  2*b.cfg.EnquireLink + b.cfg.ResponseTimeout,
		WriteTimeout: b.cfg.WriteTimeout,
		// gosmpp's enquire_link never looks for the resp: watchLink sends ours.
		EnquireLink: 0,
		OnAllPDU:    func(p pdu.PDU) (pdu.PDU, bool) { return b.onPDU(wire.Load(), p) },
		// submit_sm does not go through gosmpp's writer (wire.go): Submit
		// hears of its own write's outcome.
		OnSubmitError: func(p pdu.PDU, err error) {
			b.cfg.Log.Debug("write error", "operator", b.cfg.Operator, "bind", b.name, "pdu", p.GetHeader().CommandID.String(), "err", err)
		},
		OnReceivingError: func(err error) {
			b.cfg.Log.Debug("read error", "operator", b.cfg.Operator, "bind", b.name, "err", err)
		},
		OnClosed: func(st gosmpp.State) {
			over.Store(true)
			if s := sessRef.Load(); s != nil {
				b.forgetWire(s)
			}
			select {
			case closed <- st.String():
			default:
			}
		},
	}, 0)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, nil, fmt.Errorf("bind %s %s: no answer within %v: %w", kind, addr, b.cfg.BindTimeout, err)
		}
		return nil, nil, fmt.Errorf("bind %s %s: %w", kind, addr, err)
	}
	sessRef.Store(sess)
	b.mu.Lock()
	b.wires[sess] = wire.Load()
	b.mu.Unlock()
	if over.Load() { // closed before it was registered: OnClosed may have missed it
		b.forgetWire(sess)
	}
	return sess, closed, nil
}

func (b *Bind) forgetWire(sess *gosmpp.Session) {
	b.mu.Lock()
	delete(b.wires, sess)
	b.mu.Unlock()
}

// onPDU runs on gosmpp's reader goroutine: it must not block for long.
func (b *Bind) onPDU(wire *wireConn, p pdu.PDU) (pdu.PDU, bool) {
	switch v := p.(type) {
	case *pdu.SubmitSMResp:
		b.inRow.Store(0) // even late: the SMSC is answering
		b.complete(v.SequenceNumber, Result{Status: v.CommandStatus, MessageID: v.MessageID, Resp: time.Now()}, nil)
	case *pdu.GenericNack:
		// gosmpp does not match generic_nack to its request; we do. Some
		// SMSCs answer an ESME's enquire_link with generic_nack
		// (ESME_RINVCMDID): an answer all the same, so the link is alive.
		b.inRow.Store(0)
		b.elAnswered.Store(v.SequenceNumber)
		b.complete(v.SequenceNumber, Result{Status: v.CommandStatus, GenericNack: true, Resp: time.Now()}, nil)
	case *pdu.DeliverSM, *pdu.DataSM:
		return b.onDeliver(wire, v), false
	case *pdu.EnquireLink:
		return p.GetResponse(), false
	case *pdu.Unbind:
		return p.GetResponse(), true
	case *pdu.EnquireLinkResp:
		b.elAnswered.Store(v.SequenceNumber)
	case *pdu.UnbindResp, *pdu.DeliverSMResp:
	default:
		if p.CanResponse() {
			nack := pdu.NewGenericNack()
			nack.SetSequenceNumber(p.GetSequenceNumber())
			nack.(*pdu.GenericNack).CommandStatus = data.ESME_RINVCMDID
			return nack, false
		}
	}
	return nil, false
}

func (b *Bind) complete(seq int32, r Result, err error) {
	b.pmu.Lock()
	c, ok := b.pending[seq]
	delete(b.pending, seq)
	b.pmu.Unlock()
	if !ok {
		if err == nil {
			b.Stats.LateResponses.Add(1)
		}
		return
	}
	c.res, c.err = r, err
	close(c.done)
}

// signalFreed tells drain a place in the window was given back.
func (b *Bind) signalFreed() {
	select {
	case b.freed <- struct{}{}:
	default: // a token is already waiting for drain
	}
}

// Submit sends one submit_sm on this bind and waits for its resp. It blocks
// while the window is full, then, with a Config.Pacer, until its TPS grant
// (pace.go). Once the PDU is handed to the wire the wait is
// bounded by the response timeout only, not by ctx: a shutdown drains
// in-flight submits instead of forgetting them.
func (b *Bind) Submit(ctx context.Context, sm *pdu.SubmitSM) (Result, error) {
	if err := b.window.acquire(ctx); err != nil {
		b.signalFreed() // a place granted as ctx ended went back: drain looks again
		return Result{}, fmt.Errorf("%w: %v", ErrNotSent, err)
	}
	defer func() {
		b.window.release()
		b.signalFreed()
	}()
	b.mu.Lock()
	sess, wire, closing := b.sess, b.wires[b.sess], b.closing
	b.mu.Unlock()
	if closing {
		return Result{}, fmt.Errorf("%w: %w", ErrNotSent, ErrClosed)
	}
	if sess == nil || wire == nil { // no wire: the session has just closed
		return Result{}, fmt.Errorf("%w: bind %s not bound", ErrNotSent, b.name)
	}
	seq := sm.GetSequenceNumber()
	c := &call{done: make(chan struct{})}
	if err := b.admit(ctx, sess, seq, c); err != nil {
		return Result{}, err
	}
	if err := b.pace(ctx, sess, seq); err != nil {
		return Result{}, err
	}
	sent := time.Now()
	b.Stats.Submits.Add(1)
	// Written here, not queued to gosmpp's writer: concurrent submits share
	// syscalls, and this one learns exactly how much of it left (wire.go).
	if _, err := wire.writePDU(sm, &c.written); err != nil {
		b.writeFailed(seq, c, err) // completes c: not sent, or unknown
	}
	t := time.NewTimer(b.cfg.ResponseTimeout)
	defer t.Stop()
	select {
	case <-c.done:
		c.res.Sent = sent
		return c.res, c.err
	case <-t.C:
		b.Stats.Timeouts.Add(1)
		b.responseTimedOut(sess, seq)
		return Result{Sent: sent}, fmt.Errorf("%w: %w within %v", ErrUnknown, errNoResp, b.cfg.ResponseTimeout)
	}
}

// Close stops taking submits, waits for the outstanding ones, unbinds and
// stops the bind loop.
func (b *Bind) Close() {
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closing = true
		b.endLive()
		b.mu.Unlock()
		close(b.stop)
		<-b.done
	})
}

// Addr is the SMSC address in use (or being tried).
func (b *Bind) Addr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.addr
}

// Name identifies the bind in logs and metrics ("mno-a-1").
func (b *Bind) Name() string { return b.name }

// Bound returns a channel closed while the bind is up.
func (b *Bind) Bound() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bound
}
