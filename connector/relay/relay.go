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
	"log/slog"
	"strconv"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/events"
	"github.com/smpp-connector/smpp-connector/connector/internal/pump"
	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/store"
)

// Defaults for Options (the loop's timings: connector/internal/pump).
const (
	DefaultBatch          = 500
	DefaultPoll           = pump.DefaultPoll
	DefaultPublishTimeout = 10 * time.Second
	DefaultStatsEvery     = pump.DefaultStatsEvery
	DefaultStallAfter     = pump.DefaultStallAfter
	DefaultDrainTimeout   = pump.DefaultDrainTimeout
	// DefaultLinger: at a steady 1,000 receipts/s, 10 ms put the receipt
	// event's p50 at 54-61 ms and its p99 at 120-197 (three runs); 2 ms
	// gave 34-41 and 89-98 for the same CPU per message (the passes are
	// smaller, not costlier: a relay's commit does not wait for its flush).
	DefaultLinger = 2 * time.Millisecond
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
	if o.PublishTimeout <= 0 {
		o.PublishTimeout = DefaultPublishTimeout
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

	// loop runs the passes (on the store's cue, a poll, a backoff) and
	// watches the outbox's size (connector/internal/pump).
	loop *pump.Loop

	// fails: from a pass with a failed publish to the next pass that
	// publishes everything it took (logged once each way).
	fails pump.Failures
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
	r := &Relay{box: box, pub: pub, m: m, log: log.With("component", "relay"), opts: opts.withDefaults()}
	r.loop = pump.New(worker{r}, pump.Options{Poll: r.opts.Poll, Linger: r.opts.Linger, StatsEvery: r.opts.StatsEvery,
		StallAfter: r.opts.StallAfter, DrainTimeout: r.opts.DrainTimeout})
	return r
}

// worker is the relay as the loop drives it.
type worker struct{ r *Relay }

// Pass: more waiting when the batch was full.
func (w worker) Pass(ctx context.Context) (int, bool, bool) {
	took, failed := w.r.Pass(ctx)
	return took, took == w.r.opts.Batch, failed
}

func (w worker) Cue() <-chan struct{} { return w.r.box.Events() }

func (w worker) Stats(ctx context.Context) (store.QueueStats, error) { return w.r.box.Outbox(ctx) }

func (w worker) Observed(st store.QueueStats) {
	w.r.m.OutboxPending.Set(float64(st.Pending))
	w.r.m.OutboxLag.Set(st.Lag.Seconds())
}

func (w worker) Left(st store.QueueStats) {
	w.r.log.Warn("events left in the outbox at shutdown: the next relay to run publishes them", "events", st.Pending)
}

// Status returns the outbox's last observed state.
func (r *Relay) Status() Status {
	st := r.loop.Status()
	return Status{Pending: st.Pending, Lag: st.Lag, LastError: r.fails.Last(), Stalled: st.Stalled}
}

// Run relays until ctx ends (a pass on each cue from the store, after
// Options.Linger; on each poll; at once while a pass fills its batch), then
// makes last passes over what is left (bounded by Options.DrainTimeout):
// call it after the writers of events have stopped, so that a graceful
// shutdown leaves nothing behind.
func (r *Relay) Run(ctx context.Context) { r.loop.Run(ctx) }

// Start runs the relay (Run) until the returned stop is called; stop
// returns once the last passes are done. Call stop after the writers of
// events have stopped and before the store closes.
func (r *Relay) Start() (stop func()) { return r.loop.Start() }

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
		SMSCMessageID: e.SMSCMessageID, Status: dlr.Status(e.Status), Final: store.FinalReceiptStatus(dlr.Status(e.Status)),
		Stat: e.Stat, Err: e.Err, PartNumber: e.Part, PartCount: e.PartCount, PartsReceived: e.PartsReceived,
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
	switch began, ended := r.fails.Note(err); {
	case began:
		r.log.Warn("publishing events failed; they stay in the outbox and are retried", "events", took, "err", err)
	case ended:
		r.log.Info("publishing events again")
	}
}

// observe records a reading of the outbox (tests).
func (r *Relay) observe(st store.QueueStats) { r.loop.Observe(st) }
