// Package relay publishes the events the store wrote to its outbox
// (connector/store, outbox.go): every outcome and receipt event is stored in
// the transaction that stores its state, and the relay moves it to JetStream,
// deleting it only once JetStream has acknowledged it. A NATS outage, a
// failed publish or a crash between the two therefore never loses an event;
// it delays it, and the outbox's size and lag say by how much (metrics and
// /readyz). An event published twice (a relay that died after the publish
// and before the delete) carries the same message id both times, which
// JetStream's duplicate window drops.
//
// One relay runs in each replica, and one at a time works (the store's
// relay lock): the events reach JetStream in the order they were stored. A
// pass is a chain of named steps, each tested alone: take (the oldest
// events, locked), select (one event per part per pass, so that a part's
// later event never goes out before an earlier one that failed; the
// operator's receipt rule; a live relay drops the events a shadow replica
// left), build (the event as connector/events defines it), publish
// (asynchronously, all acknowledgements awaited), and delete (what
// JetStream stored, and what was dropped).
package relay

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/events"
	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/store"
)

// Defaults for Options.
const (
	DefaultBatch          = 500
	DefaultPoll           = 500 * time.Millisecond
	DefaultPublishTimeout = 10 * time.Second
	DefaultStatsEvery     = 2 * time.Second
	DefaultStallAfter     = 30 * time.Second
	DefaultDrainTimeout   = 5 * time.Second
	DefaultLinger         = 10 * time.Millisecond
)

// Options tune a Relay. Zero values take the defaults.
type Options struct {
	// Batch is the most events taken in one pass (DefaultBatch).
	Batch int
	// Poll is how often the outbox is read without a cue (DefaultPoll): the
	// store cues the relay after each commit that wrote events in this
	// process; polling finds rows written by another replica or left by a
	// process that died.
	Poll time.Duration
	// PublishTimeout bounds the wait for one pass's acknowledgements
	// (DefaultPublishTimeout); what is not acknowledged by then stays.
	PublishTimeout time.Duration
	// StatsEvery is how often the outbox's size and lag are read (DefaultStatsEvery).
	StatsEvery time.Duration
	// StallAfter: an oldest event older than this makes Status stalled
	// (DefaultStallAfter).
	StallAfter time.Duration
	// DrainTimeout bounds the last pass on shutdown (DefaultDrainTimeout).
	DrainTimeout time.Duration
	// Linger is how long a pass waits after the store's cue for more
	// commits to join it (DefaultLinger): the events' latency against the
	// database's work per event.
	Linger time.Duration
	// ReceiptParts gives an operator's rule for multipart receipts: each
	// (default), first or last part's receipt stands for the message.
	ReceiptParts func(operatorID string) string
	// Shadow: the replica runs in shadow mode (its publisher writes the
	// comparison log); it relays only the events shadow replicas wrote.
	Shadow bool
}

func (o Options) withDefaults() Options {
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.PublishTimeout <= 0 {
		o.PublishTimeout = DefaultPublishTimeout
	}
	if o.StatsEvery <= 0 {
		o.StatsEvery = DefaultStatsEvery
	}
	if o.StallAfter <= 0 {
		o.StallAfter = DefaultStallAfter
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
	if o.Linger <= 0 {
		o.Linger = DefaultLinger
	}
	if o.ReceiptParts == nil {
		o.ReceiptParts = func(string) string { return "each" }
	}
	return o
}

// Outbox is the store's side of the relay (store.Store).
type Outbox interface {
	RelayEvents(ctx context.Context, limit int, shadow bool, publish func(context.Context, []store.Event) []int64) (int, error)
	Outbox(ctx context.Context) (store.QueueStats, error)
	Events() <-chan struct{}
}

// Publisher publishes events (events.Publisher).
type Publisher interface {
	PublishAll(ctx context.Context, msgs []events.Message) []error
}

// Relay moves the outbox's events to JetStream.
type Relay struct {
	box  Outbox
	pub  Publisher
	m    *metrics.Metrics
	log  *slog.Logger
	opts Options

	mu     sync.Mutex
	status Status
	// failing is true from a pass with a failed publish to the next pass
	// that publishes everything it took: logged once each way.
	failing bool
}

// Status is what /readyz shows of the outbox.
type Status struct {
	Pending   int           // events waiting
	Lag       time.Duration // age of the oldest
	LastError string        // the last publish or database error, until a pass succeeds
	// Stalled: the oldest event has waited longer than Options.StallAfter.
	Stalled bool
}

// New returns a relay.
func New(box Outbox, pub Publisher, m *metrics.Metrics, log *slog.Logger, opts Options) *Relay {
	if log == nil {
		log = slog.Default()
	}
	return &Relay{box: box, pub: pub, m: m, log: log.With("component", "relay"), opts: opts.withDefaults()}
}

// Status returns the outbox's last observed state.
func (r *Relay) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status
}

// Run relays until ctx ends, then makes a last pass over what is left
// (bounded by Options.DrainTimeout): call it after the writers of events
// have stopped, so that a graceful shutdown leaves nothing behind.
func (r *Relay) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.watch(ctx) }()
	defer wg.Wait()

	poll := time.NewTicker(r.opts.Poll)
	defer poll.Stop()
	backoff := time.Duration(0)
	for {
		took, failed := r.Pass(ctx)
		switch {
		case failed:
			backoff = min(max(2*backoff, 100*time.Millisecond), 5*time.Second)
		case took == r.opts.Batch:
			backoff = 0
			continue // more are waiting
		default:
			backoff = 0
		}
		if backoff > 0 {
			// Not before the backoff, cue or not: a commit says nothing
			// about NATS.
			select {
			case <-ctx.Done():
				r.drain()
				return
			case <-time.After(backoff):
			}
			continue
		}
		select {
		case <-ctx.Done():
			r.drain()
			return
		case <-r.box.Events():
			// Let the next commits join this pass: a pass per commit costs
			// the database two round trips and a transaction for a handful
			// of events.
			select {
			case <-ctx.Done():
			case <-time.After(r.opts.Linger):
			}
		case <-poll.C:
		}
	}
}

// Start runs the relay (Run) until the returned stop is called; stop
// returns once the last passes are done. Call stop after the writers of
// events have stopped and before the store closes.
func (r *Relay) Start() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	return func() { cancel(); <-done }
}

// drain makes passes over what is left until the outbox is empty (or
// another relay holds it), a pass fails, or the drain timeout ends.
func (r *Relay) drain() {
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.DrainTimeout)
	defer cancel()
	for ctx.Err() == nil {
		took, failed := r.Pass(ctx)
		// Until nothing is left: a pass publishes one event per part, so
		// a part's later event waits for the next pass.
		if failed || took == 0 {
			break
		}
	}
	if st, err := r.box.Outbox(ctx); err == nil && st.Pending > 0 {
		r.log.Warn("events left in the outbox at shutdown: the next relay to run publishes them", "events", st.Pending)
	}
}

// Pass takes one batch of events, publishes it, and deletes what JetStream
// stored. It returns how many events it took and whether anything failed.
func (r *Relay) Pass(ctx context.Context) (took int, failed bool) {
	var publishErr error
	took, err := r.box.RelayEvents(ctx, r.opts.Batch, r.opts.Shadow, func(ctx context.Context, evs []store.Event) []int64 {
		pctx, cancel := context.WithTimeout(ctx, r.opts.PublishTimeout)
		defer cancel()
		plan := r.selectEvents(evs)
		msgs := make([]events.Message, len(plan.publish))
		for k, i := range plan.publish {
			msgs[k] = message(evs[i])
		}
		errs := r.pub.PublishAll(pctx, msgs)
		done, err := plan.done(evs, errs)
		publishErr = err
		r.count(evs, plan, errs)
		return done
	})
	if err == nil {
		err = publishErr
	}
	r.noteResult(err, took)
	return took, err != nil
}

// plan is what a pass does with the events it took: publish is the
// indexes of the events to publish, in order; drop those deleted without a
// publish; the others wait for the next pass.
type plan struct {
	publish []int
	drop    []int
	// shadowDropped counts the events a shadow replica left that this live
	// relay drops.
	shadowDropped int
}

// selectEvents is the select step: one event per part per pass (a part's
// next event waits until the earlier one is stored by JetStream), the
// receipts the operator's rule does not report dropped, and in a live relay
// the events a shadow replica left dropped (never published: the legacy
// dispatcher reported those messages).
func (r *Relay) selectEvents(evs []store.Event) plan {
	var p plan
	seen := make(map[[3]string]bool, len(evs))
	for i, e := range evs {
		part := [3]string{e.OperatorID, e.MessageID, strconv.Itoa(e.Part)}
		switch {
		case seen[part]:
			continue // after the part's earlier event, next pass
		case e.Shadow && !r.opts.Shadow:
			p.drop = append(p.drop, i)
			p.shadowDropped++
		case e.Kind == store.EventReceipt && !reported(r.opts.ReceiptParts(e.OperatorID), e.Part, e.PartCount):
			p.drop = append(p.drop, i)
		default:
			seen[part] = true
			p.publish = append(p.publish, i)
		}
	}
	return p
}

// reported applies an operator's rule for the receipts of a multipart
// message: each part's, or only the first or the last part's, which then
// stands for the message.
func reported(rule string, part, count int) bool {
	if count <= 1 {
		return true
	}
	switch rule {
	case "first":
		return part == 1
	case "last":
		return part == count
	}
	return true
}

// message is the event of an outbox row, as connector/events defines it.
func message(e store.Event) events.Message {
	if e.Kind == store.EventOutcome {
		return events.Message{Outcome: &events.Outcome{MessageID: e.MessageID, OperatorID: e.OperatorID,
			PartNumber: e.Part, PartCount: e.PartCount, Outcome: e.Status, SMSCMessageID: e.SMSCMessageID,
			CommandStatus: e.CommandStatus, Status: e.Detail, At: e.At.UTC()}}
	}
	return events.Message{Receipt: &events.Receipt{MessageID: e.MessageID, OperatorID: e.OperatorID,
		SMSCMessageID: e.SMSCMessageID, Status: dlr.Status(e.Status), Stat: e.Stat, Err: e.Err,
		PartNumber: e.Part, PartCount: e.PartCount, PartsReceived: e.PartsReceived,
		SubmittedAt: e.SubmittedAt.UTC(), DoneAt: e.DoneAt.UTC(), ReceivedAt: e.At.UTC()}}
}

// done is the delete step's list: the events JetStream stored and those
// dropped. A failed one stays, and the part's later events with it (the
// select step held them back), for the next pass.
func (p plan) done(evs []store.Event, errs []error) ([]int64, error) {
	var first error
	ids := make([]int64, 0, len(p.publish)+len(p.drop))
	for k, i := range p.publish {
		if errs[k] != nil {
			if first == nil {
				first = errs[k]
			}
			continue
		}
		ids = append(ids, evs[i].ID)
	}
	for _, i := range p.drop {
		ids = append(ids, evs[i].ID)
	}
	return ids, first
}

// count counts published events and failures, and reports dropped shadow
// events.
func (r *Relay) count(evs []store.Event, p plan, errs []error) {
	for k, err := range errs {
		kind := evs[p.publish[k]].Kind
		if err != nil {
			r.m.PublishErrors.WithLabelValues(kind).Inc()
		} else {
			r.m.OutboxPublished.WithLabelValues(kind).Inc()
		}
	}
	if p.shadowDropped > 0 {
		r.log.Warn("events written in shadow mode dropped, not published (left over from a shadow replica)", "events", p.shadowDropped)
	}
}

// noteResult logs the first failure and the recovery, once each.
func (r *Relay) noteResult(err error, took int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err != nil && !r.failing:
		r.failing = true
		r.status.LastError = err.Error()
		r.log.Warn("publishing events failed; they stay in the outbox and are retried", "events", took, "err", err)
	case err != nil:
		r.status.LastError = err.Error()
	case r.failing:
		r.failing = false
		r.status.LastError = ""
		r.log.Info("publishing events again")
	}
}

// watch reads the outbox's size and lag for the metrics and Status.
func (r *Relay) watch(ctx context.Context) {
	t := time.NewTicker(r.opts.StatsEvery)
	defer t.Stop()
	for {
		st, err := r.box.Outbox(ctx)
		if err == nil {
			r.observe(st)
		} else if !errors.Is(err, context.Canceled) {
			r.log.Debug("reading the outbox's size", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *Relay) observe(st store.QueueStats) {
	lag := st.Lag
	r.m.OutboxPending.Set(float64(st.Pending))
	r.m.OutboxLag.Set(lag.Seconds())
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status.Pending, r.status.Lag = st.Pending, lag
	r.status.Stalled = lag > r.opts.StallAfter
}
