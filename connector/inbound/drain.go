package inbound

import (
	"context"
	"log/slog"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/internal/pump"
	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/store"
)

// DefaultDrainBatch is DrainOptions.Batch's default.
const DefaultDrainBatch = 512

// DrainOptions tune a Drainer. Zero values take the defaults (the loop's
// timings: connector/internal/pump).
type DrainOptions struct {
	// Batch is the most receipts taken in one pass (DefaultDrainBatch); the
	// store writes them in transactions of their own of up to its
	// BatchSize, one after the other (store.DrainInbox).
	Batch int
	// Poll is how often the inbox is read without a cue (pump.DefaultPoll):
	// the store cues the drainer after each append in this process; polling
	// finds receipts another replica appended, or a process that died left.
	Poll time.Duration
	// StatsEvery is how often the inbox's size and lag are read (pump.DefaultStatsEvery).
	StatsEvery time.Duration
	// StallAfter: an oldest receipt older than this makes Status stalled (pump.DefaultStallAfter).
	StallAfter time.Duration
	// DrainTimeout bounds the last passes on shutdown (pump.DefaultDrainTimeout).
	DrainTimeout time.Duration
}

// Inbox is the store's side of the drainer (store.Store).
type Inbox interface {
	DrainInbox(ctx context.Context, limit int) (drained []store.Drained, more bool, err error)
	Inbox(ctx context.Context) (store.QueueStats, error)
	Inboxed() <-chan struct{}
}

// Drainer applies the receipts the handlers appended to the store's inbox
// (store.AppendReceipt, before the deliver_sm_resp): each is matched to its
// part, its state and its event stored (or it is held for its
// submit_sm_resp) in a transaction that deletes it from the inbox. One runs
// in each replica; the store makes sure each receipt is applied once. It
// counts what happened to each receipt (smpp_receipts_total) and observes
// the submit-to-receipt latency. Its passes run as the relay's do
// (connector/internal/pump): on each append's cue (no linger: an append
// already gathers the receipts that came while the previous one
// committed), on a poll, and at once while more wait.
type Drainer struct {
	box   Inbox
	m     *metrics.Metrics
	log   *slog.Logger
	batch int
	loop  *pump.Loop

	fails pump.Failures // logged once each way
}

// DrainStatus is what /readyz shows of the inbox.
type DrainStatus struct {
	Pending   int           // receipts waiting
	Lag       time.Duration // age of the oldest
	LastError string        // the last database error, until a pass succeeds
	// Stalled: the oldest receipt has waited longer than StallAfter.
	Stalled bool
}

// NewDrainer returns a drainer of box.
func NewDrainer(box Inbox, m *metrics.Metrics, log *slog.Logger, opts DrainOptions) *Drainer {
	if log == nil {
		log = slog.Default()
	}
	d := &Drainer{box: box, m: m, log: log.With("component", "inbox"), batch: opts.Batch}
	if d.batch <= 0 {
		d.batch = DefaultDrainBatch
	}
	d.loop = pump.New(drainWorker{d}, pump.Options{Poll: opts.Poll, StatsEvery: opts.StatsEvery,
		StallAfter: opts.StallAfter, DrainTimeout: opts.DrainTimeout})
	return d
}

// Status returns the inbox's last observed state.
func (d *Drainer) Status() DrainStatus {
	st := d.loop.Status()
	return DrainStatus{Pending: st.Pending, Lag: st.Lag, LastError: d.fails.Last(), Stalled: st.Stalled}
}

// Start runs the drainer until the returned stop is called; stop returns
// after the last passes (see Run).
func (d *Drainer) Start() (stop func()) { return d.loop.Start() }

// Run drains the inbox until ctx ends, then makes passes over what is left
// for a bounded time: stop the binds first, so that what they answered is
// applied before the process ends (what is left is applied by the next
// process or another replica).
func (d *Drainer) Run(ctx context.Context) { d.loop.Run(ctx) }

// drainWorker is the drainer as the loop drives it.
type drainWorker struct{ d *Drainer }

func (w drainWorker) Pass(ctx context.Context) (int, bool, bool) { return w.d.Pass(ctx) }
func (w drainWorker) Cue() <-chan struct{}                       { return w.d.box.Inboxed() }
func (w drainWorker) Stats(ctx context.Context) (store.QueueStats, error) {
	return w.d.box.Inbox(ctx)
}

func (w drainWorker) Observed(st store.QueueStats) {
	w.d.m.InboxPending.Set(float64(st.Pending))
	w.d.m.InboxLag.Set(st.Lag.Seconds())
}

func (w drainWorker) Left(st store.QueueStats) {
	w.d.log.Warn("receipts left in the inbox at shutdown: the next process or another replica applies them", "receipts", st.Pending)
}

// Pass applies one batch of the inbox's receipts and counts them. It
// returns how many it applied or held, whether more are waiting, and
// whether the database failed.
func (d *Drainer) Pass(ctx context.Context) (took int, more, failed bool) {
	got, more, err := d.box.DrainInbox(ctx, d.batch)
	var passErr error
	if err != nil && ctx.Err() == nil {
		passErr = err // a pass cut short by the stop is no failure: the last passes go on
	}
	for _, r := range got {
		rc := r.Receipt
		if r.Err != nil {
			if r.Failed {
				// Moved to smpp.unmatched_receipts (reason failed) for
				// inspection: one bad receipt must not stop the others.
				d.m.Receipts.WithLabelValues(rc.OperatorID, "failed").Inc()
				d.log.Error("receipt cannot be stored: set aside in smpp.unmatched_receipts", "operator", rc.OperatorID,
					"id", rc.RawID, "status", rc.Status, "text", loggedText(rc.Raw), "err", r.Err)
			} else {
				passErr = r.Err
			}
			continue
		}
		d.count(r)
	}
	d.setFailing(passErr)
	return len(got), more, passErr != nil
}

// count counts a drained receipt by what happened to it.
func (d *Drainer) count(r store.Drained) {
	op := r.Receipt.OperatorID
	switch r.Matched.Disposition {
	case store.Applied:
		// Its event is in the outbox, committed with the state.
		d.m.Receipts.WithLabelValues(op, "matched").Inc()
		observeLatency(d.m, r.Matched, r.Receipt)
	case store.Duplicate:
		// Its event was written when the first copy was applied.
		d.m.Receipts.WithLabelValues(op, "duplicate").Inc()
	case store.Held:
		d.m.Receipts.WithLabelValues(op, "held").Inc()
		d.log.Debug("receipt before its submit_sm_resp: held", "operator", op, "id", r.Receipt.RawID)
	default:
		d.m.Receipts.WithLabelValues(op, "stale").Inc()
	}
}

func (d *Drainer) setFailing(err error) {
	switch began, ended := d.fails.Note(err); {
	case began:
		d.log.Error("receipt inbox: cannot apply receipts; retrying (they stay in the inbox)", "err", err)
	case ended:
		d.log.Info("receipt inbox: applying receipts again")
	}
}
