package operator

import (
	"context"
	"errors"

	"github.com/smpp-connector/smpp-connector/connector/config"
)

// What an engineer can do to a running operator (the admin API,
// `smpp-connector ctl`): pause and resume its sending, renew its binds,
// bring them back to the primary endpoint, and see each bind.

// ErrNotOwner is a request that only the replica owning the operator can
// carry out (its binds are there).
var ErrNotOwner = errors.New("this replica does not own the operator")

// SetPaused pauses or resumes the operator's sending on this replica: while
// paused its owner keeps its binds (receipts and MO still come in) and
// consumes no command (they wait in JetStream); the commands in hand when
// it is paused are finished. It reports whether that changed anything.
func (r *Runner) SetPaused(paused bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.paused.Load() == paused {
		return false
	}
	r.paused.Store(paused)
	close(r.pauseChanged)
	r.pauseChanged = make(chan struct{})
	r.d.Metrics.Paused.WithLabelValues(r.id).Set(b2f(paused))
	r.d.Log.Info("operator sending "+map[bool]string{true: "paused", false: "resumed"}[paused], "operator", r.id)
	return true
}

// Paused reports whether the operator's sending is paused.
func (r *Runner) Paused() bool { return r.paused.Load() }

// pauseSignal returns whether the operator is paused and a channel closed
// at the next change.
func (r *Runner) pauseSignal() (bool, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.paused.Load(), r.pauseChanged
}

// consume runs the term's consumer while the operator is not paused, until
// ctx ends or the consumer fails.
func (r *Runner) consume(ctx context.Context, t *term) error {
	for {
		paused, changed := r.pauseSignal()
		if paused {
			select {
			case <-ctx.Done():
				return nil
			case <-changed:
				continue
			}
		}
		cctx, stop := context.WithCancel(ctx)
		go func() {
			select {
			case <-changed: // paused (or resumed and paused again)
			case <-cctx.Done():
			}
			stop()
		}()
		err := t.outbound.Run(cctx)
		stop()
		if err != nil || ctx.Err() != nil {
			return err
		}
	}
}

// Rebind renews the operator's binds now: the term drains what it has in
// flight and unbinds, and a new one binds, under the same lease (as a
// configuration change does). Only the owner can.
func (r *Runner) Rebind() error {
	if r.current() == nil {
		return ErrNotOwner
	}
	r.requestNewTerm()
	return nil
}

// FailBack brings binds that failed over (to primary-2, a backup...) back
// to the first primary endpoint (a new term binds there first), and reports
// whether any bound bind was elsewhere. Only the owner can.
func (r *Runner) FailBack() (bool, error) {
	if r.current() == nil {
		return false, ErrNotOwner
	}
	for _, b := range r.Binds() {
		if b.Endpoint != "" && b.Endpoint != "primary" {
			r.requestNewTerm()
			return true, nil
		}
	}
	return false, nil
}

// BindView is one bind as an engineer sees it.
type BindView struct {
	Name  string `json:"name"`
	State string `json:"state"`
	// Endpoint is where a bound bind is: primary, backup (primary-2,
	// backup-2... for further addresses), "" when not bound.
	Endpoint    string `json:"endpoint,omitempty"`
	Outstanding int    `json:"outstanding"`
	Window      int    `json:"window"`
	Error       string `json:"error,omitempty"`
}

// Binds returns the term's binds (none on a standby replica).
func (r *Runner) Binds() []BindView {
	t := r.current()
	if t == nil {
		return nil
	}
	names := t.endpoints
	var out []BindView
	for _, b := range t.binds() {
		st, err := b.State()
		v := BindView{Name: b.Name(), State: string(st), Outstanding: b.Outstanding(), Window: b.Window()}
		if i, bound := b.Endpoint(); bound && i < len(names) {
			v.Endpoint = names[i]
		}
		if err != nil {
			v.Error = err.Error()
		}
		out = append(out, v)
	}
	return out
}

// Owner reports whether this replica owns the operator now.
func (r *Runner) Owner() bool { return r.current() != nil }

// Settings returns the operator's configuration running.
func (r *Runner) Settings() config.Operator { return r.settings().cfg }
