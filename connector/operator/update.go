package operator

import (
	"fmt"
	"reflect"

	"github.com/smpp-connector/smpp-connector/connector/config"
)

// Change says how Update applied an operator's new configuration.
type Change string

const (
	// Unchanged: the new configuration is the one running.
	Unchanged Change = "unchanged"
	// InPlace: only settings the running binds take as they are changed:
	// the TPS (the limiter the binds share), the window (each bind's, at
	// once), the notes and the credential's maximum age.
	InPlace Change = "in_place"
	// Renew: the credential's location changed (and maybe what applies in
	// place): every bind is renewed with the credential from its new
	// place, one at a time, make before break (a session bound beside the
	// working one before that one drains and unbinds; break before make,
	// still one bind at a time, where the SMSC allows no second bind), so
	// the operator's capacity never drops to zero, as in a rotation.
	Renew Change = "renew"
	// NewTerm: something else the binds were made with changed (endpoints,
	// bind type, number of binds, timeouts, encoding, quirks...), or the
	// window grew beyond what the term's consumer was sized for. Endpoints
	// take a new term, not a renewal bind by bind: a new address may be
	// another SMSC counting its message ids on its own, and a pool with
	// binds on both would match receipts of one to parts of the other; with
	// every bind down and up again the receipts are matched in a new id
	// epoch, as after an SMSC restart (session/epoch.go). The running term drains what it has in flight and unbinds,
	// and a new one binds with the new settings, under the same lease: no
	// other replica sends meanwhile and nothing is dropped (commands wait in
	// JetStream). A standby replica takes them at its next term.
	NewTerm Change = "new_term"
)

// Update applies a new configuration of the operator while it runs. The
// configuration must be valid (config.Parse validated it) and the
// operator's; an endpoint missing for this mode is refused, the running
// settings kept.
func (r *Runner) Update(oc config.Operator) (Change, error) {
	if oc.ID != r.id {
		return Unchanged, fmt.Errorf("operator %q: update for operator %q", r.id, oc.ID)
	}
	next, err := settingsFor(oc, r.base.Shadow)
	if err != nil {
		return Unchanged, err
	}
	r.mu.Lock()
	prev, t := r.s, r.term
	if reflect.DeepEqual(prev.cfg, oc) {
		r.mu.Unlock()
		return Unchanged, nil
	}
	next.seq = prev.seq + 1
	r.s = next
	newTerm := !bindsKeep(prev.cfg, oc) || (t != nil && oc.Window > t.window)
	if newTerm {
		// Asked under the lock the settings were stored under: a term
		// starting now either reads them and drops this request, or reads
		// the previous ones and gets it (runTerm).
		r.requestNewTerm()
	}
	r.mu.Unlock()

	r.limiter.SetTPS(oc.TPS)
	r.exportSettings(oc)
	if newTerm {
		return NewTerm, nil
	}
	if t != nil {
		t.setWindow(oc.Window)
	}
	if termKeeps(prev.cfg, oc) {
		return InPlace, nil
	}
	if t != nil {
		r.moveBinds(t)
	}
	return Renew, nil
}

// moveBinds renews the running term's binds with the credential from its
// new place, one bind at a time, and moves the credential watch there.
func (r *Runner) moveBinds(t *term) {
	t.moveWatch()
	go r.renewBinds(t.ctx, t, "the credential from its new place")
}

// bindsKeep reports whether the term's binds can be renewed into b's where
// they were made with a: besides what applies in place, at most the
// credential's location differs.
func bindsKeep(a, b config.Operator) bool {
	a.Credentials.File, b.Credentials.File = "", ""
	a.Credentials.VaultPath, b.Credentials.VaultPath = "", ""
	return termKeeps(a, b)
}

// termKeeps reports whether a running term can carry on with b where it was
// made with a: they differ at most in what applies in place.
func termKeeps(a, b config.Operator) bool {
	a.TPS, b.TPS = 0, 0
	a.Window, b.Window = 0, 0
	a.Notes, b.Notes = "", ""
	a.Credentials.MaxAge, b.Credentials.MaxAge = 0, 0
	return reflect.DeepEqual(a, b)
}

// settings returns the operator's current settings.
func (r *Runner) settings() settings {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.s
}

// startTerm makes t the running term and starts its binds. t was made with
// s: an in-place change Update stored since (it saw no term to apply it to)
// is applied now.
func (r *Runner) startTerm(t *term, s settings) {
	r.mu.Lock()
	r.term = t
	latest := r.s
	r.mu.Unlock()
	if latest.seq != s.seq {
		// Changed since t was made, with no term to apply it to: the
		// window fits, or a new term makes it (endpoints and credential
		// included: binds not started yet have nothing to renew).
		if termKeeps(s.cfg, latest.cfg) && latest.cfg.Window <= t.window {
			t.setWindow(latest.cfg.Window)
		} else {
			r.requestNewTerm()
		}
	}
	t.start()
}

// requestNewTerm asks the running term, or the next one as soon as it
// starts, to end for a new one with the latest settings.
func (r *Runner) requestNewTerm() {
	select {
	case r.renewTerm <- struct{}{}:
	default: // a request is pending already: the new term reads the latest settings
	}
}

// setWindow resizes every bind's window.
func (t *term) setWindow(n int) {
	for _, p := range t.pools() {
		p.SetWindow(n)
	}
}

// exportSettings sets the gauges of the operator's settings, on owner and
// standby alike: what its binds send within when this replica owns it.
func (r *Runner) exportSettings(oc config.Operator) {
	m, id := r.d.Metrics, r.id
	m.TPSLimit.WithLabelValues(id).Set(float64(oc.TPS))
	m.WindowSize.WithLabelValues(id).Set(float64(oc.Window))
	m.CredMaxAge.WithLabelValues(id).Set(oc.Credentials.MaxAge.Seconds())
	m.Paused.WithLabelValues(id).Set(b2f(r.paused.Load()))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Check reports whether the operator's configuration can run in this mode
// (an endpoint for it), without changing anything.
func Check(oc config.Operator, shadow bool) error {
	_, err := settingsFor(oc, shadow)
	return err
}
