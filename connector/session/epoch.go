package session

import (
	"sync"
	"time"
)

// An SMSC that restarts may count its message ids from 1 again, so an id
// in a receipt names the message submitted under it since the SMSC's
// restart, not one from before (connector/store, "Receipts after an SMSC
// restart"). The connector cannot see a restart: it sees its binds drop and
// come back, as after a network cut. The pool's id epoch therefore begins
// each time it goes from no bound bind to one, and at its first bind (the
// SMSC may have restarted while this process was not bound). A bind that
// drops while another stays bound begins none: the SMSC that answers the
// other one kept its counter.

// epoch counts a pool's bound binds and keeps when the count last left 0.
type epoch struct {
	mu    sync.Mutex
	up    int
	start time.Time
}

// bound is each bind's hook, called under the bind's lock as its state
// enters (true) or leaves (false) StateBound, before a submit can use the
// new session: every response on it comes after the epoch's start.
func (e *epoch) bound(up bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !up {
		e.up--
		return
	}
	if e.up == 0 {
		e.start = time.Now()
	}
	e.up++
}

// notifyBound tells the bind's pool (onBound) that its state, about to
// become s, enters or leaves StateBound. Called under b.mu.
func (b *Bind) notifyBound(s State) {
	if b.onBound != nil && (s == StateBound) != (b.state == StateBound) {
		b.onBound(s == StateBound)
	}
}

// track hooks the pool's binds (before they start).
func (p *Pool) track() {
	for _, b := range p.binds {
		b.onBound = p.epoch.bound
	}
}

// Epoch is when the pool's current id epoch began: the last time it went
// from no bound bind to one. Zero before its first bind.
func (p *Pool) Epoch() time.Time {
	p.epoch.mu.Lock()
	defer p.epoch.mu.Unlock()
	return p.epoch.start
}
