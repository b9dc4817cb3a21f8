package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/linxGnu/gosmpp"
	"github.com/linxGnu/gosmpp/pdu"
)

// Dead binds. An SMSC can keep TCP open and answer nothing (a hung process,
// a stateful firewall that lost the flow): reading never fails, so gosmpp
// keeps the session "bound" for ever and every submit times out into an
// unknown outcome. A bind is declared dead when DeadAfterTimeouts submit_sm
// in a row get no resp, or when our own enquire_link gets no
// enquire_link_resp within the response timeout. A dead bind takes no new
// submit at once, is closed without draining (nothing would answer), and is
// bound again, on the next endpoint when there are backups.
//
// At most one window is lost: once a submit has timed out and no resp came
// since, the bind writes a new submit_sm only when nothing else is
// outstanding on it (one probe at a time), so the submits written into a
// black hole are the window in flight when it opened plus probes that each
// count towards the threshold, which is at most the window.

// Reasons a bind is declared dead (the metric's label).
const (
	DeadResponseTimeouts = "response_timeouts"
	DeadEnquireLink      = "enquire_link"
)

// ErrDeadBind is in the chain of the errors of submits lost with a dead bind.
var ErrDeadBind = errors.New("bind dead")

// errNoResp and errWritePartway are in the chain of unknown submits whose
// resp did not come in time, or whose write failed after some bytes left.
var (
	errNoResp       = errors.New("no submit_sm_resp")
	errWritePartway = errors.New("write failed part-way")
)

// deadError says why a bind was declared dead; its text is what /readyz shows.
type deadError struct {
	reason string // DeadResponseTimeouts or DeadEnquireLink
	detail string
}

func (e *deadError) Error() string        { return e.detail }
func (e *deadError) Is(target error) bool { return target == ErrDeadBind }

// UnknownReason says why a submit came out ErrUnknown, for the metrics:
// "timeout" (no resp in time), "dead_bind" (in flight when its bind was
// declared dead), "write_failed" (a write failed part-way) or "bind_lost".
func UnknownReason(err error) string {
	switch {
	case errors.Is(err, errNoResp):
		return "timeout"
	case errors.Is(err, ErrDeadBind):
		return "dead_bind"
	case errors.Is(err, errWritePartway):
		return "write_failed"
	}
	return "bind_lost"
}

// withDead keeps the reason the last session died in a bind's state until it
// is bound again, so that /readyz says why a bind is down, not only that the
// last bind attempt timed out.
func withDead(err, dead error) error {
	if dead == nil {
		return err
	}
	return fmt.Errorf("%w (the bind before was dead: %w)", err, dead)
}

// admit registers a submit as pending on sess, or waits while the bind is
// suspect (a submit timed out and no resp came since) and another submit is
// still outstanding on it: a black hole then gets one probe at a time, not a
// new window. It fails with ErrNotSent when the bind leaves sess meanwhile.
func (b *Bind) admit(ctx context.Context, sess *gosmpp.Session, seq int32, c *call) error {
	for {
		// Both locks (mu then pmu, the only place they nest): a bind declared
		// dead under mu is never admitted into after.
		b.mu.Lock()
		cur, st, changed := b.sess, b.state, b.changed
		if cur != sess || st != StateBound || b.closing { // closing: a renewal drains this session
			b.mu.Unlock()
			return fmt.Errorf("%w: bind %s %s", ErrNotSent, b.name, st)
		}
		b.pmu.Lock()
		if b.inRow.Load() == 0 || len(b.pending) == 0 {
			b.pending[seq] = c
			b.pmu.Unlock()
			b.mu.Unlock()
			return nil
		}
		b.pmu.Unlock()
		b.mu.Unlock()
		// A resp or a timeout ends the wait as well as a state change: poll
		// briefly rather than wire a signal through every completion.
		t := time.NewTimer(5 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w: %v", ErrNotSent, ctx.Err())
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

// responseTimedOut forgets a submit_sm of sess that got no resp in time and
// counts it. The count goes up before the submit leaves pending, so that
// admit never sees the bind both unsuspected and free.
func (b *Bind) responseTimedOut(sess *gosmpp.Session, seq int32) {
	b.mu.Lock()
	current := b.sess == sess
	b.mu.Unlock()
	b.pmu.Lock()
	n := 0
	if current { // else a previous session's submit: it says nothing of this one
		n = int(b.inRow.Add(1))
	}
	delete(b.pending, seq)
	b.pmu.Unlock()
	if current && n >= min(b.cfg.DeadAfterTimeouts, b.window.size()) { // the window may have shrunk (SetWindow)
		b.declareDead(sess, &deadError{reason: DeadResponseTimeouts,
			detail: fmt.Sprintf("%d consecutive response timeouts (no submit_sm_resp within %v)", n, b.cfg.ResponseTimeout)})
	}
}

// declareDead takes the bind out of service at once (the pool stops picking
// it, submits waiting in admit give up as not sent) and hands it to the bind
// loop to drop and renew. Only the first verdict on a session counts.
func (b *Bind) declareDead(sess *gosmpp.Session, de *deadError) {
	b.mu.Lock()
	if b.sess != sess || b.state != StateBound {
		b.mu.Unlock()
		return
	}
	b.setStateLocked(StateDead, de)
	b.mu.Unlock()
	select {
	case b.dead <- de:
	default:
	}
}

// watchLink sends our enquire_link every EnquireLink interval and declares the
// bind dead when its resp does not come within the response timeout.
func (b *Bind) watchLink(sess *gosmpp.Session, stop <-chan struct{}) {
	tick := time.NewTicker(b.cfg.EnquireLink)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		el := pdu.NewEnquireLink()
		seq := el.GetSequenceNumber()
		if err := sess.Transceiver().Submit(el); err != nil {
			continue // the session is closing: the bind loop hears of it
		}
		wait := time.NewTimer(b.cfg.ResponseTimeout)
		select {
		case <-stop:
			wait.Stop()
			return
		case <-wait.C:
		}
		if b.elAnswered.Load() != seq {
			b.declareDead(sess, &deadError{reason: DeadEnquireLink,
				detail: fmt.Sprintf("no enquire_link_resp within %v", b.cfg.ResponseTimeout)})
			return
		}
	}
}

// deadDrop closes a dead session: the submits in flight on it come out
// unknown (ErrDeadBind in their chain), those still queued as not sent.
func (b *Bind) deadDrop(sess *gosmpp.Session, de *deadError) {
	switch de.reason {
	case DeadEnquireLink:
		b.Stats.DeadEnquireLink.Add(1)
	default:
		b.Stats.DeadTimeouts.Add(1)
	}
	b.cfg.Log.Warn("bind dead: dropping and renewing it", "operator", b.cfg.Operator, "bind", b.name,
		"addr", b.Addr(), "reason", de.reason, "err", de.detail, "in_flight", b.Outstanding())
	if b.cfg.OnDead != nil {
		b.cfg.OnDead(b.name, de.reason)
	}
	sess.Close()
	b.dropped(fmt.Errorf("dead: %w", de))
}
