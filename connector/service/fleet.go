package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/lease"
	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/operator"
	"github.com/smpp-connector/smpp-connector/connector/store"
)

// fleet is the operators this replica runs: one runner each, started with
// the connector and changed while it runs by a new operators configuration
// (apply). Every runner runs under ctx and is counted in wg, so shutdown
// waits for those a reload started too.
//
// Locks, in this order: pauseMu orders the pause table's reads
// (loadPauses) with the admin API's writes, so a read taken before a pause
// cannot undo it; mu guards the runners and the configuration, held briefly
// (never across a call to Vault or a wait for a runner); pausesMu guards
// the last read of the pauses.
type fleet struct {
	ctx     context.Context
	wg      *sync.WaitGroup
	cfg     operator.Config // Shadow and CredentialPoll; Operator set per runner
	deps    operator.Deps
	leaseOf func(id string) *lease.Lease
	routes  *credentialRoutes // nil: the credential source was given (Options.Secrets), not routed here
	strays  interface {
		SetKnown(context.Context, []string) error
	}
	m   *metrics.Metrics
	log *slog.Logger

	mu      sync.Mutex
	ops     *config.File
	version string
	runners map[string]*fleetRunner
	// stopping are the runners of operators removed, until they have
	// stopped: one added again starts after its old runner (whose
	// clean-up would undo the new one's gauges).
	stopping map[string]chan struct{}
	// drained: an engineer left this replica's operators to the others
	// (admin API): the runners are stopped until undrain.
	drained bool
	// closed: the connector is shutting down; no runner starts any more.
	closed bool

	pauseMu sync.Mutex // held over a read-and-apply of the pause table, or an admin API write
	// pauses is the last read (guarded by pausesMu, a leaf lock taken under
	// mu too): runners added start paused or not by it.
	pausesMu sync.Mutex
	pauses   map[string]store.Pause
}

// setPause records one operator's pause in the last read (nil: resumed).
func (f *fleet) setPause(id string, p *store.Pause) {
	f.pausesMu.Lock()
	defer f.pausesMu.Unlock()
	if f.pauses == nil {
		f.pauses = map[string]store.Pause{}
	}
	if p == nil {
		delete(f.pauses, id)
	} else {
		f.pauses[id] = *p
	}
}

// fleetRunner is one operator's runner and the way to stop it alone.
type fleetRunner struct {
	r    *operator.Runner
	stop context.CancelFunc
	done chan struct{}
}

// configVersion names a configuration by its content: the same file gives
// the same version on every replica.
func configVersion(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

// CheckRunnable reports what in a valid configuration this replica could
// not run (an operator without an endpoint for its mode): a reload refuses
// it, and operator-management-service's client neither puts it in force
// nor keeps it as the last good (oms.Options.Check).
func CheckRunnable(ops *config.File, shadow bool) error {
	if err := ops.CheckMode(shadow); err != nil {
		return err
	}
	var errs []error
	for _, oc := range ops.Operators {
		if err := operator.Check(oc, shadow); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// build makes a runner for every operator of ops; launch runs them.
func (f *fleet) build(ops *config.File, version string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runners, f.stopping = map[string]*fleetRunner{}, map[string]chan struct{}{}
	for _, oc := range ops.Operators {
		r, err := f.newRunner(oc)
		if err != nil {
			return err
		}
		f.runners[oc.ID] = &fleetRunner{r: r}
	}
	f.setLocked(ops, version)
	return nil
}

// launch runs the runners build made.
func (f *fleet) launch() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fr := range f.runners {
		f.runLocked(fr.r)
	}
}

func (f *fleet) newRunner(oc config.Operator) (*operator.Runner, error) {
	cfg := f.cfg
	cfg.Operator = oc
	r, err := operator.New(cfg, f.deps)
	if err != nil {
		return nil, err
	}
	f.pausesMu.Lock()
	_, paused := f.pauses[oc.ID]
	f.pausesMu.Unlock()
	r.SetPaused(paused)
	return r, nil
}

// runLocked runs r until the connector stops or the operator is removed
// (while drained, or once the connector is stopping: it is only kept).
func (f *fleet) runLocked(r *operator.Runner) {
	if f.drained || f.closed {
		done := make(chan struct{})
		close(done)
		f.runners[r.ID()] = &fleetRunner{r: r, stop: func() {}, done: done}
		return
	}
	ctx, stop := context.WithCancel(f.ctx)
	fr := &fleetRunner{r: r, stop: stop, done: make(chan struct{})}
	f.runners[r.ID()] = fr
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer close(fr.done)
		r.Run(ctx, f.leaseOf(r.ID()))
	}()
}

func (f *fleet) setLocked(ops *config.File, version string) {
	if f.version != "" && f.version != version {
		f.m.ConfigInfo.DeleteLabelValues(f.version)
	}
	f.ops, f.version = ops, version
	f.m.ConfigInfo.WithLabelValues(version).Set(1)
}

// close stops runners from being started (shutdown): set under the lock
// runLocked runs under, before the runners' context ends, so none is added
// to the wait group while the connector waits for it.
func (f *fleet) close() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
}

// runnerList returns the runners, ordered by operator id (readiness).
func (f *fleet) runnerList() []*operator.Runner {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]string, 0, len(f.runners))
	for id := range f.runners {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]*operator.Runner, 0, len(ids))
	for _, id := range ids {
		out = append(out, f.runners[id].r)
	}
	return out
}

// operator returns an operator's current configuration.
func (f *fleet) operator(id string) (config.Operator, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ops.Operator(id)
}

// current returns the configuration running and its version.
func (f *fleet) current() (*config.File, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ops, f.version
}

// applyPrepareTimeout bounds what apply does before it changes anything
// (Vault's login for the first operator whose credential is there).
const applyPrepareTimeout = 30 * time.Second

// apply moves the fleet to next, a valid configuration (config.Parse
// checked each operator), as a whole or not at all: what can refuse it
// (CheckRunnable; Vault unreachable for the first operator whose credential
// is there) is checked before anything changes, without holding the fleet's
// lock (readiness and the admin API carry on meanwhile). Then each operator
// changed is updated (operator.Runner.Update: in place, renewed, or a new
// term), each new one started (listed in the roster first, so no replica
// dead-letters its waiting commands as unknown), each removed one stopped:
// it drains what it has in flight, unbinds and lets its lease go; its
// commands wait in JetStream.
func (f *fleet) apply(ctx context.Context, next *config.File, version string) error {
	if _, running := f.current(); version == running {
		return nil
	}
	if err := CheckRunnable(next, f.cfg.Shadow); err != nil {
		return err
	}
	if f.routes != nil {
		pctx, cancel := context.WithTimeout(ctx, applyPrepareTimeout)
		err := f.routes.prepare(pctx, next.Operators)
		cancel()
		if err != nil {
			return fmt.Errorf("credentials: %w", err)
		}
	}
	if f.strays != nil {
		if err := f.strays.SetKnown(ctx, next.IDs()); err != nil {
			// Listed at the strays' next sweep instead; the runners start.
			f.log.Warn("operators configuration: the roster of configured operators not updated yet", "err", err)
		}
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if f.routes == nil && f.credentialsMoved(next) {
		f.log.Warn("operators configuration: a credential location changed, but this connector was given its credential source: the change is not applied to it")
	}
	var added []*operator.Runner
	for _, oc := range next.Operators {
		if f.routes != nil {
			f.routes.route(oc)
		}
		fr, running := f.runners[oc.ID]
		if !running {
			r, err := f.newRunner(oc) // CheckRunnable passed: not expected to fail
			if err != nil {
				f.log.Error("operator not started", "operator", oc.ID, "err", err)
				continue
			}
			added = append(added, r)
			continue
		}
		ch, err := fr.r.Update(oc)
		if err != nil { // CheckRunnable passed: not expected
			f.log.Error("operator not updated: its previous settings carry on", "operator", oc.ID, "err", err)
			continue
		}
		if ch != operator.Unchanged {
			f.change(oc.ID, string(ch))
		}
	}
	for id, fr := range f.runners {
		if _, kept := next.Operator(id); kept {
			continue
		}
		delete(f.runners, id)
		fr.stop()
		f.stopping[id] = fr.done
		f.change(id, "removed")
		go f.removed(id, fr.done)
	}
	for _, r := range added {
		f.change(r.ID(), "added")
		if old, ok := f.stopping[r.ID()]; ok {
			// Removed a moment ago and still finishing: start after it.
			f.runners[r.ID()] = &fleetRunner{r: r, stop: func() {}, done: old}
			go f.startAfter(r, old)
			continue
		}
		f.runLocked(r)
	}
	f.setLocked(next, version)
	return nil
}

// removed waits until a removed operator's runner has stopped, then forgets
// its credential route, unless it was added again meanwhile.
func (f *fleet) removed(id string, done chan struct{}) {
	<-done
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopping[id] == done {
		delete(f.stopping, id)
	}
	if _, back := f.runners[id]; !back && f.routes != nil {
		f.routes.unroute(id)
	}
	f.log.Info("operator removed: in-flight messages finished, binds closed", "operator", id)
}

// startAfter runs r, an operator added again, once its previous runner has
// stopped (if it is still configured then).
func (f *fleet) startAfter(r *operator.Runner, old chan struct{}) {
	<-old
	f.mu.Lock()
	defer f.mu.Unlock()
	if fr, ok := f.runners[r.ID()]; ok && fr.r == r {
		f.runLocked(r)
	}
}

// change logs and counts one operator's change.
func (f *fleet) change(id, what string) {
	f.m.ConfigChanges.WithLabelValues(id, what).Inc()
	f.log.Info("operators configuration: operator changed", "operator", id, "change", what)
}

// credentialsMoved reports whether next puts an operator's credential
// somewhere else than the running configuration does.
func (f *fleet) credentialsMoved(next *config.File) bool {
	for _, oc := range next.Operators {
		if cur, ok := f.ops.Operator(oc.ID); ok {
			a, b := cur.Credentials, oc.Credentials
			a.MaxAge, b.MaxAge = 0, 0
			if !reflect.DeepEqual(a, b) {
				return true
			}
		}
	}
	return false
}

// drain stops every runner (each finishes what it has in flight, unbinds
// and lets its lease go, so the other replicas take its operators) and
// keeps them stopped until undrain; it returns once they have stopped, or
// with ctx's error.
func (f *fleet) drain(ctx context.Context) error {
	f.mu.Lock()
	f.drained = true
	var dones []chan struct{}
	for _, fr := range f.runners {
		fr.stop()
		dones = append(dones, fr.done)
	}
	f.mu.Unlock()
	f.log.Info("replica draining: its operators are left to the other replicas")
	return waitAll(ctx, dones, "drain: runners still finishing")
}

// undrain runs the runners again (each stands by for its lease), once those
// drain stopped have finished.
func (f *fleet) undrain(ctx context.Context) error {
	f.mu.Lock()
	if !f.drained {
		f.mu.Unlock()
		return nil
	}
	var dones []chan struct{}
	for _, fr := range f.runners {
		dones = append(dones, fr.done)
	}
	f.mu.Unlock()
	if err := waitAll(ctx, dones, "undrain: a runner is still draining"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.drained {
		return nil
	}
	f.drained = false
	for _, fr := range f.runners {
		f.runLocked(fr.r)
	}
	f.log.Info("replica undrained: it takes operators again")
	return nil
}

func waitAll(ctx context.Context, dones []chan struct{}, what string) error {
	for _, d := range dones {
		select {
		case <-d:
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
	}
	return nil
}

// isDrained reports whether the replica is drained (readiness).
func (f *fleet) isDrained() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.drained
}
