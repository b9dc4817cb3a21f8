package session

import (
	"context"
	"errors"
	"fmt"

	"github.com/linxGnu/gosmpp"
)

// Pacer grants each submit_sm its place in the operator's TPS
// (throttle.Limiter): Wait returns nil when one may be written.
type Pacer interface {
	Wait(ctx context.Context) error
}

// errLeftSession ends a wait for the TPS when the bind leaves the session
// the submit was admitted on (dropped, declared dead, renewed, closing).
var errLeftSession = errors.New("the bind left its session while the submit waited for the TPS")

// pace takes the TPS grant of a submit admitted on sess, the last step
// before its bytes go to the wire (issue #12: the operator counts arrivals,
// in every sliding second, through reconnects).
//
// Why here and not before the pool picks a bind: a grant is a time slot. One
// taken while no bind is up, or while the window is full, is spent later,
// when the bind is back or the window frees, together with every other grant
// that waited: the SMSC sees them in one instant (after a rebind, the whole
// backlog in hand). Taken here, on a bound session with room in its window,
// the grant is used within the time it takes to write the PDU (wire.go).
//
// If the bind leaves sess while the submit waits (or ctx ends), the wait is
// given up, the submit is forgotten as never sent (ErrNotSent: the pool sends
// it elsewhere, with a new grant). A grant taken just before the bind died is
// lost, never handed to another submit: it counts in the limiter's sliding
// second as if it had been used, so it can only slow what follows, never let
// a burst through.
func (b *Bind) pace(ctx context.Context, sess *gosmpp.Session, seq int32) error {
	p := b.cfg.Pacer
	if p == nil {
		return nil
	}
	// live ends at the bind's next state change: any change means the
	// submit is no longer on sess in a bound state (or has moved on, a
	// renewal's new session).
	live, err := b.liveOn(sess)
	if err == nil {
		wctx, cancel := context.WithCancelCause(ctx)
		// No goroutine per submit: AfterFunc on a cancellable context only
		// registers f until that context ends.
		stop := context.AfterFunc(live, func() { cancel(errLeftSession) })
		if err = p.Wait(wctx); err != nil {
			err = context.Cause(wctx)
		}
		stop()
		cancel(nil)
	}
	if err == nil {
		// Granted just as the bind left: the grant is lost, not the submit.
		_, err = b.liveOn(sess)
	}
	if err != nil {
		// Out of pending, and its waiters (retire) released.
		b.complete(seq, Result{}, ErrNotSent)
		return fmt.Errorf("%w: bind %s: %w", ErrNotSent, b.name, err)
	}
	return nil
}

// liveOn returns the context of the bind's current state if the bind is
// bound on sess and not closing, else errLeftSession.
func (b *Bind) liveOn(sess *gosmpp.Session) (context.Context, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sess != sess || b.state != StateBound || b.closing {
		return nil, errLeftSession
	}
	return b.live, nil
}
