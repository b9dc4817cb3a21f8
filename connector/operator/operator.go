// Package operator runs one operator's lifecycle on this replica: it stands
// by while another replica holds the operator's lease, and while this one
// does (a term) it binds (a receiver pool too for transmitter binds),
// consumes the operator's dispatch commands (connector/outbound), handles
// what the SMSC sends back (connector/inbound), renews the binds when the
// credential rotates, and keeps the bind gauges current. Strays
// (unknown.go) dead-letters the commands of operators configured nowhere,
// under their own leases.
package operator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/events"
	"github.com/smpp-connector/smpp-connector/connector/lease"
	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/secrets"
	"github.com/smpp-connector/smpp-connector/connector/session"
	"github.com/smpp-connector/smpp-connector/connector/store"
	"github.com/smpp-connector/smpp-connector/connector/throttle"
)

// Config is one operator as this replica runs it.
type Config struct {
	Operator config.Operator
	// Shadow selects the operator's shadow endpoints (and events.Publisher
	// writes the comparison log instead of publishing).
	Shadow bool
	// CredentialPoll is how often the credential is checked for a new
	// version (default 30s).
	CredentialPoll time.Duration
}

// Deps are what every operator shares: the credential source, the store,
// JetStream, the event publisher, the metrics and the log.
type Deps struct {
	Secrets secrets.Source
	Store   *store.Store
	JS      jetstream.JetStream
	Names   natscontract.Names
	Events  *events.Publisher
	Metrics *metrics.Metrics
	Log     *slog.Logger
}

// Runner is one operator: its settings, its limiter, and its binds, consumer
// and inbound handler while this replica owns it (a term); no term: standby.
// Its settings change while it runs (Update, update.go).
type Runner struct {
	id      string
	base    Config // CredentialPoll and Shadow; the operator's settings are in s
	d       Deps
	limiter *throttle.Limiter

	mu   sync.Mutex
	s    settings // guarded by mu: replaced by Update
	term *term
	// newTerm asks the running term to end and another to start under the
	// same lease, with the settings Update stored (buffered 1).
	renewTerm chan struct{}
	// notConsuming holds why the operator's consumer could not start.
	notConsuming atomic.Value
	// paused: an engineer paused the operator (control.go); pauseChanged
	// is closed and replaced at each change.
	paused       atomic.Bool
	pauseChanged chan struct{} // guarded by mu
}

// settings are one version of the operator's configuration, with what the
// binds take from it.
type settings struct {
	seq uint64 // bumped by every Update that changes something
	cfg config.Operator
	// primary and backup endpoints for this mode, and the bind type.
	addr     string
	backups  []string
	bindType session.BindType
	// endpoints name [addr, backups...] in smpp_bind_endpoint.
	endpoints []string
}

// settingsFor derives the binds' settings from the operator's configuration.
func settingsFor(oc config.Operator, shadow bool) (settings, error) {
	primary, backup := oc.Endpoints.For(shadow)
	if len(primary) == 0 {
		return settings{}, fmt.Errorf("operator %q: no endpoint for this mode (shadow=%v)", oc.ID, shadow)
	}
	s := settings{cfg: oc, addr: primary[0].Address, bindType: session.Transceiver}
	if oc.BindType != config.BindTransceiver {
		s.bindType = session.Transmitter
	}
	for _, e := range append(primary[1:], backup...) {
		s.backups = append(s.backups, e.Address)
	}
	s.endpoints = append(endpointNames("primary", len(primary)), endpointNames("backup", len(backup))...)
	return s, nil
}

// New returns the operator's runner, standing by until Run acquires its lease.
func New(cfg Config, d Deps) (*Runner, error) {
	oc := cfg.Operator
	s, err := settingsFor(oc, cfg.Shadow)
	if err != nil {
		return nil, err
	}
	cfg.CredentialPoll = cmp.Or(cfg.CredentialPoll, 30*time.Second)
	if d.Log == nil {
		d.Log = slog.Default()
	}
	// The binds take the grants (session.Config.Pacer); what a submit waited
	// for its grant is counted here.
	waits, waitSec := d.Metrics.ThrottleWaits.WithLabelValues(oc.ID), d.Metrics.ThrottleWaitSec.WithLabelValues(oc.ID)
	lim := throttle.New(oc.TPS, throttle.WithWaitObserver(func(waited time.Duration) {
		if waited > time.Millisecond {
			waits.Inc()
			waitSec.Add(waited.Seconds())
		}
	}))
	r := &Runner{id: oc.ID, base: cfg, d: d, limiter: lim, s: s, renewTerm: make(chan struct{}, 1),
		pauseChanged: make(chan struct{})}
	d.Metrics.Prepare(oc.ID)
	return r, nil
}

// endpointNames names n endpoints of a role (primary, backup) for
// smpp_bind_endpoint: the role for the first, role-2, role-3... for the
// others, so the label stays bounded by the operators file.
func endpointNames(role string, n int) []string {
	var out []string
	for i := range n {
		if i == 0 {
			out = append(out, role)
		} else {
			out = append(out, fmt.Sprintf("%s-%d", role, i+1))
		}
	}
	return out
}

// ID is the operator's id.
func (r *Runner) ID() string { return r.id }

func (r *Runner) current() *term {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.term
}

func (r *Runner) set(t *term) {
	r.mu.Lock()
	r.term = t
	r.mu.Unlock()
}

// Run runs the operator while this replica owns it, and stands by while
// another does: only the owner binds and sends, so the operator's TPS holds
// across replicas (and its bind limit, but for the old owner's binds waiting
// for answers to what it sent before it let go). It returns when ctx ends,
// once the term's in-flight submits are answered and stored and its binds
// closed.
func (r *Runner) Run(ctx context.Context, l *lease.Lease) {
	id, m, log := r.ID(), r.d.Metrics, r.d.Log
	// The operator's settings, on owner and standby alike: what its binds
	// send within when this replica owns it.
	r.exportSettings(r.settings().cfg)
	defer func() {
		m.TPSLimit.DeleteLabelValues(id)
		m.WindowSize.DeleteLabelValues(id)
		m.CredMaxAge.DeleteLabelValues(id)
		m.CredRevision.DeleteLabelValues(id)
		m.CredCreated.DeleteLabelValues(id)
		m.Paused.DeleteLabelValues(id)
	}()
	for {
		m.Owner.WithLabelValues(id).Set(0)
		owned, release, err := l.Acquire(ctx)
		if err != nil {
			return // ctx ended
		}
		log.Info("this replica owns the operator: binding and sending", "operator", id)
		m.Owner.WithLabelValues(id).Set(1)
		runErr, lag := error(nil), l.PreviousOwnerLag()
		for {
			var renewed bool
			runErr, renewed = r.runTerm(owned, lag)
			if !renewed || owned.Err() != nil {
				break
			}
			// Settings a term cannot take in place changed (update.go): the
			// term drained and unbound; the next binds with the new ones,
			// still under the lease, so no other replica sends meanwhile and
			// no handover grace is waited. The previous term was this one's,
			// its submits all answered: nothing to wait for.
			log.Info("operator settings changed: binding again with them", "operator", id)
			lag = 0
		}
		m.Owner.WithLabelValues(id).Set(0)
		lost := lease.Lost(owned)
		release()
		if ctx.Err() != nil {
			return
		}
		if runErr == nil {
			log.Warn("this replica lost the operator: standing by", "operator", id, "err", lost)
		}
	}
}

// runTerm binds and sends for the operator until owned ends, or gives the
// operator up after a while if its consumer fails: then another replica, or
// this one again, tries (holding it doing nothing would stop the operator).
// renewed reports that it ended because Update asked for a new term.
func (r *Runner) runTerm(owned context.Context, previousOwnerLag time.Duration) (err error, renewed bool) {
	id, m, log := r.ID(), r.d.Metrics, r.d.Log
	ctx, end := context.WithCancel(owned)
	defer end()
	// A request for a new term made before the settings are read is
	// answered by this term: they include its change. (Update stores the
	// settings and asks under the same lock: no request can come between.)
	r.mu.Lock()
	select {
	case <-r.renewTerm:
	default:
	}
	s := r.s
	r.mu.Unlock()
	t := r.newTerm(ctx, s, previousOwnerLag)
	r.startTerm(t, s)
	var wg sync.WaitGroup
	var renew atomic.Bool
	wg.Add(3)
	go func() { defer wg.Done(); r.watchCredentials(ctx, t) }()
	go func() { defer wg.Done(); observeBinds(ctx, id, t, m) }()
	go func() {
		defer wg.Done()
		select {
		case <-r.renewTerm:
			renew.Store(true)
			end()
		case <-ctx.Done():
		}
	}()
	// Consume once a bind can send: a command taken earlier would only wait
	// for one, its ack wait running. (It no longer holds a TPS grant
	// meanwhile: the binds take the grants, session.Config.Pacer.)
	if t.pool.WaitReady(ctx) == nil {
		err = r.consume(ctx, t)
	}
	if err != nil && !renew.Load() {
		// Without its consumer the operator sends nothing: make it loud.
		log.Error("operator not consuming", "operator", id, "err", err)
		m.ConsumerFailures.WithLabelValues(id).Inc()
		// Kept until a term consumes again (readiness shows it meanwhile).
		r.notConsuming.Store(err.Error())
		select {
		case <-ctx.Done():
		case <-time.After(notConsumingBackoff):
		}
	}
	end()
	wg.Wait()
	t.close() // unbind once in-flight submits are answered
	// This replica's binds are gone: dashboards summing across replicas
	// must not count them.
	m.BindState.DeletePartialMatch(prometheus.Labels{"operator": id})
	m.WindowInUse.DeletePartialMatch(prometheus.Labels{"operator": id})
	m.BindEndpoint.DeletePartialMatch(prometheus.Labels{"operator": id})
	r.set(nil)
	if err == nil {
		r.notConsuming.Store("")
	}
	return err, renew.Load()
}

// notConsumingBackoff is how long an owner whose consumer failed keeps the
// operator before giving it up to be tried again.
const notConsumingBackoff = 5 * time.Second

// Status is what readiness reports of an operator.
type Status struct {
	// Standby: another replica owns the operator (that is ready too).
	Standby bool
	// NotConsuming says why the consumer failed, while no term consumes.
	NotConsuming string
	// Unbound lists the binds' states (with their errors) when no bind of
	// a pool is up; empty when the operator can send.
	Unbound []string
	// Dead names the binds declared dead (the SMSC stopped answering) and
	// not bound again yet, also while other binds carry the traffic.
	Dead []string
	// RefusedCredential is a credential version the SMSC refused for good
	// (a rotation): the binds carry on with the previous one, or wait.
	RefusedCredential string
}

// Status reports whether the operator can do its job on this replica.
func (r *Runner) Status() Status {
	var s Status
	t := r.current()
	if why, _ := r.notConsuming.Load().(string); why != "" && (t == nil || !t.outbound.Consuming()) {
		s.NotConsuming = why
	}
	if t == nil {
		s.Standby = true
		return s
	}
	for _, b := range t.binds() {
		if st, err := b.State(); errors.Is(err, session.ErrDeadBind) {
			s.Dead = append(s.Dead, fmt.Sprintf("%s %s: %v", b.Name(), st, err))
		}
	}
	for _, p := range t.pools() {
		if v := p.RefusedVersion(); v != "" {
			s.RefusedCredential = v
		}
	}
	if t.pool.Ready() && (t.rx == nil || t.rx.Ready()) {
		return s
	}
	for _, b := range t.binds() {
		st, err := b.State()
		w := string(st)
		if err != nil {
			w += ": " + err.Error()
		}
		s.Unbound = append(s.Unbound, w)
	}
	return s
}
