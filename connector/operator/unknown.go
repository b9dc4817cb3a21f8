package operator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/events"
	"github.com/smpp-connector/smpp-connector/connector/lease"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/outbound"
	"github.com/smpp-connector/smpp-connector/connector/store"
)

// Commands for an operator that is not configured.
//
// Each configured operator's commands are consumed through its durable
// consumer (natscontract.DispatchConsumer, filtered on its subject) by the
// replica that holds its lease. A command published on the subject of an
// operator nobody configured matched no consumer and stayed in the stream,
// unanswered, until the stream's age limit. Strays finds such subjects in
// the dispatch stream and dead-letters their commands with the reason
// UnknownOperator, without taking the commands of an operator another
// replica runs (a rolling deploy adding an operator has replicas that know
// it beside replicas that do not):
//
//   - it looks whether the operator's lease (LeaseName) is held: then a
//     replica runs it, and its commands (always some in flight) are left
//     alone, without a word;
//   - it takes the operator's own lease first, the one a replica
//     that knows the operator holds while it runs it: while such a replica
//     runs, this one only stands by;
//   - it consumes through the operator's own durable consumer, the one that
//     replica uses: what is dead-lettered is acked there, and what that
//     replica had acked is never seen again;
//   - it holds the lease only while commands wait, at most Hold at a time,
//     and pauses after each turn, so a replica that knows the operator and
//     starts meanwhile takes it within a lease poll or two;
//   - it dead-letters only commands older than MinAge, and hands younger
//     ones back until then: a replica that runs the operator takes its
//     commands within seconds, so one that waited that long has nobody,
//     even if this turn caught the lease in the instant its owner let go
//     of it (a term ending, a lost database session) before taking it again;
//   - it leaves alone an operator some replica has listed as configured
//     within KnownWithin (Roster: every replica lists its operators at
//     every sweep, smpp.configured_operators): an operator whose runners
//     are all down for longer than MinAge (restarting in a rollout,
//     crashed, their replica down for minutes) is not unknown, and its
//     backlog waits for them however old, its lease left free. Only once
//     no replica has listed it for the window (removed from every
//     operators file, or never added) are its commands dead-lettered.
//     Listing and window are by the database's clock.

// UnknownOperator is the dead-letter reason of a command whose operator no
// replica has configured (none has listed it within KnownWithin).
const UnknownOperator = "unknown operator"

// LeaseName is the lease of an operator: the one its runner takes, and
// Strays for an operator it does not know.
func LeaseName(operatorID string) string { return "operator/" + operatorID }

// StraysConfig says which operators this replica knows and how to take
// the others' leases.
type StraysConfig struct {
	// Known are the operators configured on this replica.
	Known []string
	// Lease is an operator's lease (LeaseName), with the options its
	// runners use.
	Lease func(operatorID string) *lease.Lease
	// Every is how often the dispatch stream's subjects are listed and a
	// stray operator's consumer is looked at (default 10s); it is also the
	// pause after each turn.
	Every time.Duration
	// Hold is the longest a turn holds an operator's lease (default 10s).
	Hold time.Duration
	// MinAge is how long a command waits in the stream before it is
	// dead-lettered (default 3 × Every).
	MinAge time.Duration
	// Roster is where replicas list the operators they have configured
	// (store.Store): this replica lists Known there at
	// every sweep, and an operator some replica listed within KnownWithin
	// is not dead-lettered. Neither set: every operator not configured here
	// counts as unknown (tools and tests only).
	Roster Roster
	// Replica names this replica in the roster (default the host name).
	Replica string
	// KnownWithin is how long after a replica last listed an operator its
	// commands still wait for a replica that runs it (default
	// DefaultKnownWithin).
	KnownWithin time.Duration
}

// DefaultKnownWithin is how long an operator some replica had configured
// keeps its commands while no replica runs it.
const DefaultKnownWithin = 24 * time.Hour

// Roster records which operators each replica has configured, by the
// database's clock (store.Store).
type Roster interface {
	// TouchOperators lists ids as configured on replica, now.
	TouchOperators(ctx context.Context, replica string, ids []string) error
	// OperatorsSeenWithin returns those of ids some replica listed within
	// the last within.
	OperatorsSeenWithin(ctx context.Context, within time.Duration, ids ...string) (map[string]store.OperatorSighting, error)
}

// Strays dead-letters the commands of operators not configured here.
type Strays struct {
	cfg   StraysConfig
	d     Deps
	known map[string]bool

	mu      sync.Mutex
	serving map[string]*atomic.Value // operator -> state (strayIdle, strayStandby, strayDraining)
	// stopServing ends an operator's turns (SetKnown: configured here now).
	stopServing map[string]context.CancelFunc
	// waitLogged is when each operator's wait was last logged (logDue).
	waitLogged map[string]time.Time
	wg         sync.WaitGroup
	sweeps     atomic.Int64 // sweeps done (tests)
	turns      atomic.Int64 // turns at a lease done (tests)
	waits      atomic.Int64 // turns that left commands waiting: operator listed elsewhere (tests)
}

// States of a stray operator on this replica.
const (
	strayIdle     = "idle"     // nothing waiting
	strayStandby  = "standby"  // commands wait; its lease is held elsewhere, or is being taken
	strayDraining = "draining" // holding its lease: dead-lettering
	// commands wait; nobody holds its lease but a replica listed it as
	// configured within KnownWithin: they are kept for its runners.
	strayKnownElsewhere = "known elsewhere"
)

// NewStrays returns the dead-letterer of unknown operators' commands.
func NewStrays(cfg StraysConfig, d Deps) *Strays {
	cfg.Every = cmp.Or(cfg.Every, 10*time.Second)
	cfg.Hold = cmp.Or(cfg.Hold, 10*time.Second)
	cfg.MinAge = cmp.Or(cfg.MinAge, 3*cfg.Every)
	cfg.KnownWithin = cmp.Or(cfg.KnownWithin, DefaultKnownWithin)
	if cfg.Replica == "" {
		cfg.Replica, _ = os.Hostname()
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	s := &Strays{cfg: cfg, d: d, serving: map[string]*atomic.Value{}, stopServing: map[string]context.CancelFunc{},
		waitLogged: map[string]time.Time{}}
	s.setKnown(cfg.Known)
	return s
}

// SetKnown replaces the operators configured here (a reload added or
// removed some) and lists them in the roster at once: another replica that
// does not know an operator added here must not take its waiting commands
// for an unknown operator's while it waits for our next sweep. One added
// stops being served here at once: its turn ends, its lease is let go for
// its runner, nothing more of its is dead-lettered. One removed is a stray
// at the next sweep, and its commands wait while the roster says this
// replica listed it within KnownWithin.
func (s *Strays) SetKnown(ctx context.Context, ids []string) error {
	s.setKnown(ids)
	return s.list(ctx)
}

func (s *Strays) setKnown(ids []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.Known = slices.Clone(ids)
	s.known = map[string]bool{}
	for _, id := range ids {
		s.known[id] = true
		if stop := s.stopServing[id]; stop != nil {
			stop()
			delete(s.stopServing, id)
			delete(s.serving, id)
		}
	}
}

// Run looks for stray operators until ctx ends, then waits for their turns
// to end.
func (s *Strays) Run(ctx context.Context) {
	defer s.wg.Wait()
	t := time.NewTicker(s.cfg.Every)
	defer t.Stop()
	for {
		if err := s.list(ctx); err != nil && ctx.Err() == nil {
			s.d.Log.Warn("listing the operators configured here", "err", err)
		}
		if err := s.sweep(ctx); err != nil && ctx.Err() == nil {
			s.d.Log.Warn("looking for commands of operators not configured", "err", err)
		}
		s.sweeps.Add(1)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Standby lists the stray operators whose commands wait while another
// replica holds their lease (one that knows them, presumably).
func (s *Strays) Standby() []string { return s.in(strayStandby) }

// KnownElsewhere lists the stray operators whose commands wait, with their
// lease free, for a replica that lists them as configured (within
// KnownWithin) to run them again.
func (s *Strays) KnownElsewhere() []string { return s.in(strayKnownElsewhere) }

// in lists the stray operators in a state.
func (s *Strays) in(state string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, st := range s.serving {
		if st.Load() == state {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// list records the operators configured here in the roster.
func (s *Strays) list(ctx context.Context) error {
	if s.cfg.Roster == nil {
		return nil
	}
	s.mu.Lock()
	known := s.cfg.Known
	s.mu.Unlock()
	return s.cfg.Roster.TouchOperators(ctx, s.cfg.Replica, known)
}

// listedElsewhere reports whether a replica listed the operator as
// configured within KnownWithin (or whether that cannot be told): then its
// waiting commands are kept, and this says so in the log and the metric.
func (s *Strays) listedElsewhere(ctx context.Context, id string) bool {
	if s.cfg.Roster == nil {
		return false
	}
	seen, err := s.cfg.Roster.OperatorsSeenWithin(ctx, s.cfg.KnownWithin, id)
	if err != nil {
		if ctx.Err() == nil {
			s.d.Log.Warn("cannot tell whether a replica has the operator configured: its commands wait", "operator", id, "err", err)
		}
		s.waits.Add(1)
		return true
	}
	o, ok := seen[id]
	if !ok {
		return false
	}
	s.waits.Add(1)
	s.d.Metrics.StrayLastListed.WithLabelValues(id).Set(o.Ago.Seconds())
	if s.logDue(id) {
		s.d.Log.Warn("commands wait for an operator no replica runs, configured on a replica lately: kept for it, not dead-lettered",
			"operator", id, "last_listed_ago", o.Ago.Round(time.Second), "last_listed_by", o.Replica,
			"dead_lettered_after", (s.cfg.KnownWithin - o.Ago).Round(time.Second))
	}
	return true
}

// waitLogEvery is how often the wait of one operator's commands is logged
// again: it may last KnownWithin (a day) for an operator removed on purpose;
// the gauge says the rest.
const waitLogEvery = 5 * time.Minute

// logDue reports whether the wait of the operator's commands is to be
// logged now: the first time, then every waitLogEvery.
func (s *Strays) logDue(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if last, ok := s.waitLogged[id]; ok && time.Since(last) < waitLogEvery {
		return false
	}
	s.waitLogged[id] = time.Now()
	return true
}

// sweep starts serving each operator of the dispatch stream's subjects that
// is not configured here and not served yet.
func (s *Strays) sweep(ctx context.Context) error {
	n := s.d.Names
	st, err := s.d.JS.Stream(ctx, n.DispatchStream)
	if err != nil {
		return fmt.Errorf("dispatch stream %s: %w", n.DispatchStream, err)
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(natscontract.Wildcard(n.DispatchSubject)))
	if err != nil {
		return fmt.Errorf("dispatch stream %s: subjects: %w", n.DispatchStream, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for subject := range info.State.Subjects {
		id, ok := operatorOf(n.DispatchSubject, subject)
		if !ok || s.known[id] || s.serving[id] != nil {
			continue
		}
		state := &atomic.Value{}
		state.Store(strayIdle)
		s.serving[id] = state
		sctx, stop := context.WithCancel(ctx)
		s.stopServing[id] = stop
		s.wg.Add(1)
		go func() { defer s.wg.Done(); defer stop(); s.serve(sctx, id, state) }()
	}
	return nil
}

// serve takes turns at a stray operator's lease while its commands wait.
func (s *Strays) serve(ctx context.Context, id string, state *atomic.Value) {
	l := s.cfg.Lease(id)
	defer s.d.Metrics.StrayLastListed.DeleteLabelValues(id)
	for {
		switch {
		case !s.waiting(ctx, id):
			state.Store(strayIdle)
			s.d.Metrics.StrayLastListed.DeleteLabelValues(id)
		case s.heldElsewhere(ctx, l, id):
			// A runner has it (its commands are always waiting: in
			// flight): nothing to say, nothing to take.
			state.Store(strayStandby)
			s.d.Metrics.StrayLastListed.DeleteLabelValues(id)
		case s.listedElsewhere(ctx, id):
			// Its lease is left free for a runner coming back.
			state.Store(strayKnownElsewhere)
		default:
			s.d.Metrics.StrayLastListed.DeleteLabelValues(id)
			state.Store(strayStandby)
			owned, release, err := l.Acquire(ctx)
			if err != nil {
				return // ctx ended
			}
			// Acquire may have waited long: listed meanwhile?
			if s.listedElsewhere(owned, id) {
				release()
				state.Store(strayKnownElsewhere)
				break
			}
			state.Store(strayDraining)
			n, err := s.drain(ctx, owned, id)
			release()
			s.turns.Add(1)
			state.Store(strayIdle)
			if n > 0 || err != nil {
				s.d.Log.Warn("commands for an operator no replica has configured: dead-lettered",
					"operator", id, "commands", n, "reason", UnknownOperator, "known_within", s.cfg.KnownWithin, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.cfg.Every):
		}
	}
}

// heldElsewhere reports whether a replica holds the operator's lease now
// (its runner, presumably), or whether that cannot be told: either way the
// turn is skipped, without taking the lease or judging the commands.
func (s *Strays) heldElsewhere(ctx context.Context, l *lease.Lease, id string) bool {
	held, err := l.Held(ctx)
	if err != nil && ctx.Err() == nil {
		s.d.Log.Debug("cannot tell whether a replica runs the operator: looked at again next turn", "operator", id, "err", err)
	}
	return held || err != nil
}

// waiting reports whether commands of the operator wait in its consumer (or
// whether it has none yet: its subject is in the stream, so it has some).
func (s *Strays) waiting(ctx context.Context, id string) bool {
	c, err := s.d.JS.Consumer(ctx, s.d.Names.DispatchStream, natscontract.ConsumerName(id))
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return true
	}
	if err != nil {
		return false // looked at again at the next turn
	}
	info, err := c.Info(ctx)
	return err == nil && (info.NumPending > 0 || info.NumAckPending > 0)
}

// drain dead-letters the operator's waiting commands through its durable
// consumer for at most Hold, and returns how many. It stops when ctx ends
// too: the operator was configured here meanwhile (SetKnown), and what is
// left is its runner's.
func (s *Strays) drain(ctx, owned context.Context, id string) (int, error) {
	n := s.d.Names
	cons, err := s.d.JS.Consumer(owned, n.DispatchStream, natscontract.ConsumerName(id))
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		// The consumer a runner of the operator would create: it carries on
		// after what is dead-lettered here.
		cons, err = s.d.JS.CreateConsumer(owned, n.DispatchStream,
			natscontract.DispatchConsumer(n, id, outbound.DefaultAckWait, strayBatch*4))
	}
	if err != nil {
		return 0, fmt.Errorf("consumer %s: %w", natscontract.ConsumerName(id), err)
	}
	done := 0
	for deadline := time.Now().Add(s.cfg.Hold); owned.Err() == nil && ctx.Err() == nil && time.Now().Before(deadline); {
		batch, err := cons.Fetch(strayBatch, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return done, fmt.Errorf("fetch: %w", err)
		}
		got := 0
		for msg := range batch.Messages() {
			got++
			if ctx.Err() != nil {
				_ = msg.Nak() // configured here now: its runner's
				continue
			}
			if young := s.young(msg); young > 0 {
				_ = msg.NakWithDelay(young) // not ours yet: back to the stream until it is old enough
				continue
			}
			if err := s.deadLetter(owned, id, msg); err != nil {
				// Handed back: the rest of the batch comes back after the ack wait.
				return done, err
			}
			done++
		}
		if got == 0 {
			return done, nil
		}
	}
	return done, nil
}

// young is how much longer a command must wait before it is dead-lettered
// (0: now).
func (s *Strays) young(msg jetstream.Msg) time.Duration {
	md, err := msg.Metadata()
	if err != nil {
		return 0
	}
	return max(s.cfg.MinAge-time.Since(md.Timestamp), 0)
}

// strayBatch is how many commands one fetch takes.
const strayBatch = 64

// deadLetter publishes a stray command as a dead letter and acks it (term:
// never redelivered); if the dead letter cannot be published the command is
// handed back, so nothing is lost.
func (s *Strays) deadLetter(ctx context.Context, id string, msg jetstream.Msg) error {
	dl := events.DeadLetter{OperatorID: id, Subject: msg.Subject(), Reason: UnknownOperator, Field: "operatorId",
		ReceivedAt: time.Now().UTC()}
	dl.CommandText(msg.Data())
	if err := s.d.Events.DeadLetter(ctx, dl); err != nil {
		s.d.Metrics.PublishErrors.WithLabelValues("deadletter").Inc()
		_ = msg.Nak()
		return fmt.Errorf("dead letter: %w", err)
	}
	s.d.Metrics.UnknownOperator.WithLabelValues(id).Inc()
	s.d.Metrics.DeadLetters.WithLabelValues(id, "operatorId").Inc()
	if err := msg.Term(); err != nil {
		s.d.Log.Warn("term failed: the command comes back after the ack wait and is dead-lettered again", "operator", id, "err", err)
	}
	return nil
}

// operatorOf is the operator id in a subject of the dispatch subject
// template ("smpp.operator.{operatorId}").
func operatorOf(template, subject string) (string, bool) {
	t := strings.ReplaceAll(template, "{id}", "{operatorId}")
	prefix, suffix, ok := strings.Cut(t, "{operatorId}")
	if !ok || len(subject) <= len(prefix)+len(suffix) || !strings.HasPrefix(subject, prefix) || !strings.HasSuffix(subject, suffix) {
		return "", false
	}
	id := subject[len(prefix) : len(subject)-len(suffix)]
	if strings.ContainsAny(id, ".*>") {
		return "", false
	}
	return id, true
}
