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

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/lease"
	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/operator"
)

// fleet is the operators this replica runs: one runner each, started with
// the connector and changed while it runs by a new operators configuration
// (apply). Every runner runs under ctx and is counted in wg, so shutdown
// waits for those a reload started too.
type fleet struct {
	ctx     context.Context
	wg      *sync.WaitGroup
	cfg     operator.Config // Shadow and CredentialPoll; Operator set per runner
	deps    operator.Deps
	leaseOf func(id string) *lease.Lease
	routes  *credentialRoutes // nil: the credential source was given (Options.Secrets), not routed here
	strays  interface{ SetKnown([]string) }
	m       *metrics.Metrics
	log     *slog.Logger

	mu      sync.Mutex
	ops     *config.File
	version string
	runners map[string]*fleetRunner
	// drained: an engineer left this replica's operators to the others
	// (admin API): the runners are stopped until undrain.
	drained bool
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

// build makes a runner for every operator of ops; launch runs them.
func (f *fleet) build(ops *config.File, version string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runners = map[string]*fleetRunner{}
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
	return operator.New(cfg, f.deps)
}

// runLocked runs r until the connector stops or the operator is removed
// (while drained: it is only kept, to run at undrain).
func (f *fleet) runLocked(r *operator.Runner) {
	if f.drained {
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

// apply moves the fleet to next, a valid configuration (config.Parse
// checked each operator), as a whole or not at all: what can refuse it
// (shadow mode without endpoints, an operator without an endpoint for this
// mode, Vault unreachable for the first operator whose credential is there)
// is checked before anything changes. Then each operator changed is updated
// (operator.Runner.Update: in place, or a new term), each new one started,
// each removed one stopped: it drains what it has in flight, unbinds and
// lets its lease go; its commands wait in JetStream.
func (f *fleet) apply(ctx context.Context, next *config.File, version string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if version == f.version {
		return nil
	}
	if err := next.CheckMode(f.cfg.Shadow); err != nil {
		return err
	}
	var added []*operator.Runner
	var errs []error
	for _, oc := range next.Operators {
		if _, running := f.runners[oc.ID]; running {
			if err := operator.Check(oc, f.cfg.Shadow); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		r, err := f.newRunner(oc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		added = append(added, r)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if f.routes != nil {
		if err := f.routes.prepare(ctx, next.Operators); err != nil {
			return fmt.Errorf("credentials: %w", err)
		}
	} else if f.credentialsMoved(next) {
		f.log.Warn("operators file: a credential location changed, but this connector was given its credential source: the change is not applied to it")
	}

	for _, oc := range next.Operators {
		if f.routes != nil {
			f.routes.route(oc)
		}
		fr, running := f.runners[oc.ID]
		if !running {
			continue
		}
		ch, err := fr.r.Update(oc)
		if err != nil { // checked above: not expected
			f.log.Error("operator not updated: its previous settings carry on", "operator", oc.ID, "err", err)
			continue
		}
		if ch != operator.Unchanged {
			f.change(oc.ID, string(ch))
		}
	}
	for _, r := range added {
		f.runLocked(r)
		f.change(r.ID(), "added")
	}
	for id, fr := range f.runners {
		if _, kept := next.Operator(id); kept {
			continue
		}
		delete(f.runners, id)
		fr.stop()
		f.change(id, "removed")
		go func() {
			<-fr.done
			f.mu.Lock()
			_, back := f.runners[id] // added again meanwhile: its route is the new one's
			f.mu.Unlock()
			if f.routes != nil && !back {
				f.routes.unroute(id)
			}
			f.log.Info("operator removed: in-flight messages finished, binds closed", "operator", id)
		}()
	}
	if f.strays != nil {
		f.strays.SetKnown(next.IDs())
	}
	f.setLocked(next, version)
	return nil
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
	for _, d := range dones {
		select {
		case <-d:
		case <-ctx.Done():
			return fmt.Errorf("drain: runners still finishing: %w", ctx.Err())
		}
	}
	return nil
}

// undrain runs the runners again (each stands by for its lease).
func (f *fleet) undrain(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.drained {
		return nil
	}
	for _, fr := range f.runners {
		select {
		case <-fr.done:
		case <-ctx.Done():
			return fmt.Errorf("undrain: a runner is still draining: %w", ctx.Err())
		}
	}
	f.drained = false
	for _, fr := range f.runners {
		f.runLocked(fr.r)
	}
	f.log.Info("replica undrained: it takes operators again")
	return nil
}

// isDrained reports whether the replica is drained (readiness).
func (f *fleet) isDrained() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.drained
}
