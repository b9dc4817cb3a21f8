package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// Operator is one virtual SMSC.
type Operator struct {
	sim  *Sim
	cfg  OperatorConfig
	prof profile.Profile
	tls  *tls.Config // nil: plaintext

	accounts map[string]*account
	store    *msgStore
	sched    *scheduler

	mu       sync.Mutex
	ln       net.Listener
	addr     string // resolved listen address, reused after an outage
	down     int    // reasons the listener is held down
	closed   bool
	sessions map[uint64]*session
	acceptWG sync.WaitGroup
}

// account is an ESME account and its queue of deliver_sm waiting for a receiver.
type account struct {
	cfg       AccountConfig
	passwords atomic.Pointer[[]string] // replaced whole on rotation
	binds     atomic.Int32
	queue     chan *outbound
	// scheduled counts receipts waiting for their delay (not yet in queue).
	scheduled atomic.Int64
	// dropped counts receipts and MO refused because the queue was full.
	dropped atomic.Uint64
}

// congested reports whether the account's receipt backlog (queued plus
// scheduled) reached 90% of the queue: the SMSC then answers new submits that
// want a receipt with ESME_RMSGQFUL, as real SMSCs do, rather than accept
// messages whose receipts it would have to drop.
func (a *account) congested() bool {
	return (int64(len(a.queue))+a.scheduled.Load())*10 >= int64(cap(a.queue))*9
}

// outbound is a deliver_sm waiting to be sent; it is encoded when a session
// takes it, because that is when it gets a sequence number.
type outbound struct {
	pdu     wire.DeliverSM
	receipt bool
	msgID   string
}

func newOperator(s *Sim, cfg OperatorConfig) *Operator {
	op := &Operator{
		sim: s, cfg: cfg, prof: cfg.Profile, accounts: map[string]*account{},
		store: newMsgStore(cfg.MessageStore), sessions: map[uint64]*session{}, addr: cfg.Listen,
	}
	for _, a := range cfg.Accounts {
		acc := &account{cfg: a, queue: make(chan *outbound, cfg.ReceiptQueue)}
		pw := a.passwords()
		acc.passwords.Store(&pw)
		op.accounts[a.SystemID] = acc
	}
	op.sched = newScheduler(op)
	return op
}

// ID is the operator's id.
func (op *Operator) ID() string { return op.cfg.ID }

// Addr is the address the listener is (or was last) bound to.
func (op *Operator) Addr() string {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.addr
}

// TLS reports whether the listener speaks TLS.
func (op *Operator) TLS() bool { return op.tls != nil }

// Profile is the operator's quirk profile with defaults applied.
func (op *Operator) Profile() profile.Profile { return op.prof }

// Down reports whether the listener is held down by a fault.
func (op *Operator) Down() bool {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.down > 0
}

func (op *Operator) listen() error {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.listenLocked()
}

func (op *Operator) listenLocked() error {
	if op.closed || op.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", op.addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", op.addr, err)
	}
	if op.tls != nil {
		ln = tls.NewListener(ln, op.tls)
	}
	op.ln, op.addr = ln, ln.Addr().String()
	op.acceptWG.Add(1)
	go op.acceptLoop(ln)
	return nil
}

func (op *Operator) acceptLoop(ln net.Listener) {
	defer op.acceptWG.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				op.sim.log.Warn("accept failed", "operator", op.cfg.ID, "err", err)
				time.Sleep(50 * time.Millisecond)
				continue
			}
			return
		}
		ss := newSession(op, c)
		op.mu.Lock()
		// A connection accepted just before setDown closed the listener
		// would escape its sweep of the sessions and bind during the
		// outage: drop it here, under the lock setDown counts holds under
		// (also when the outage is already over: the listener it came
		// from is not the one open now).
		if op.closed || op.down > 0 || op.ln != ln {
			op.mu.Unlock()
			c.Close()
			continue
		}
		op.sessions[ss.id] = ss
		op.mu.Unlock()
		op.sim.stats.connections.Add(1)
		go ss.run()
	}
}

// setDown holds the listener down (closing it and dropping every bind) or
// releases one hold, reopening the listener on the same address.
func (op *Operator) setDown(down bool) error {
	op.mu.Lock()
	if down {
		op.down++
		ln := op.ln
		op.ln = nil
		op.mu.Unlock()
		if ln != nil {
			ln.Close()
			op.sim.log.Info("operator listener down", "operator", op.cfg.ID)
		}
		for _, ss := range op.sessionList() {
			ss.close("operator outage")
		}
		return nil
	}
	defer op.mu.Unlock()
	if op.down > 0 {
		op.down--
	}
	if op.down == 0 {
		if err := op.listenLocked(); err != nil {
			return err
		}
		op.sim.log.Info("operator listener up", "operator", op.cfg.ID, "addr", op.addr)
	}
	return nil
}

func (op *Operator) sessionList() []*session {
	op.mu.Lock()
	defer op.mu.Unlock()
	out := make([]*session, 0, len(op.sessions))
	for _, s := range op.sessions {
		out = append(out, s)
	}
	return out
}

func (op *Operator) forget(ss *session) {
	op.mu.Lock()
	delete(op.sessions, ss.id)
	op.mu.Unlock()
}

func (op *Operator) shutdown() {
	op.mu.Lock()
	op.closed = true
	ln := op.ln
	op.ln = nil
	op.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	op.acceptWG.Wait()
	op.sched.stop()
	var wg sync.WaitGroup
	for _, ss := range op.sessionList() {
		wg.Add(1)
		go func() { defer wg.Done(); ss.unbindAndClose(time.Second) }()
	}
	wg.Wait()
}

// enqueue hands a deliver_sm to the account's receivers; a full queue drops it
// and counts the loss rather than growing without bound.
func (op *Operator) enqueue(acc *account, ob *outbound) {
	select {
	case acc.queue <- ob:
	default:
		acc.dropped.Add(1)
		op.sim.stats.add(op.cfg.ID, acc.cfg.SystemID, "deliver_sm", "queue_full")
	}
}

// injectMO segments an MO message and queues its parts for the account's receivers.
func (op *Operator) injectMO(mo faults.MO) error {
	acc, err := op.moAccount(mo.Account)
	if err != nil {
		return err
	}
	parts, err := segmentMO(mo, uint16(op.sim.msgNum.Add(1)), op.prof.DataCoding0)
	if err != nil {
		return fmt.Errorf("mo: %w", err)
	}
	for _, p := range parts {
		op.enqueue(acc, &outbound{pdu: p})
	}
	op.sim.stats.addN(op.cfg.ID, acc.cfg.SystemID, "mo", "queued", uint64(len(parts)))
	return nil
}

func (op *Operator) moAccount(id string) (*account, error) {
	if id != "" {
		acc, ok := op.accounts[id]
		if !ok {
			return nil, fmt.Errorf("mo: operator %q has no account %q", op.cfg.ID, id)
		}
		return acc, nil
	}
	if len(op.cfg.Accounts) == 0 {
		return nil, fmt.Errorf("mo: operator %q has no account", op.cfg.ID)
	}
	return op.accounts[op.cfg.Accounts[0].SystemID], nil
}

// QueueDepth reports how many deliver_sm wait for a receiver, per account.
func (op *Operator) QueueDepth() map[string]int {
	out := map[string]int{}
	for id, a := range op.accounts {
		out[id] = len(a.queue)
	}
	return out
}

// SetPasswords replaces the passwords an account accepts. Giving the old and
// the new password models a rotation overlap; binds already up stay up, as on
// a real SMSC.
func (op *Operator) SetPasswords(accountID string, passwords []string) error {
	acc, ok := op.accounts[accountID]
	if !ok {
		return fmt.Errorf("operator %q has no account %q", op.cfg.ID, accountID)
	}
	if len(passwords) == 0 {
		return fmt.Errorf("account %q: at least one password is required", accountID)
	}
	for _, p := range passwords {
		if p == "" || len(p) > 8 {
			return fmt.Errorf("account %q: passwords must be 1..8 characters", accountID)
		}
	}
	pw := append([]string(nil), passwords...)
	acc.passwords.Store(&pw)
	return nil
}

// Accounts lists the operator's account ids.
func (op *Operator) Accounts() []string {
	out := make([]string, 0, len(op.cfg.Accounts))
	for _, a := range op.cfg.Accounts {
		out = append(out, a.SystemID)
	}
	return out
}
