package inbound

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/store"
)

// Defaults for DrainOptions.
const (
	DefaultDrainBatch   = 512
	DefaultDrainPoll    = 500 * time.Millisecond
	DefaultStatsEvery   = 2 * time.Second
	DefaultStallAfter   = 30 * time.Second
	DefaultDrainTimeout = 5 * time.Second
)

// DrainOptions tune a Drainer. Zero values take the defaults.
type DrainOptions struct {
	// Batch is the most receipts taken in one pass (DefaultDrainBatch); the
	// store's writer writes them, with the prepares and outcomes of the
	// moment, in transactions of up to its BatchSize, side by side.
	Batch int
	// Poll is how often the inbox is read without a cue (DefaultDrainPoll):
	// the store cues the drainer after each append in this process; polling
	// finds receipts another replica appended, or a process that died left.
	Poll time.Duration
	// StatsEvery is how often the inbox's size and lag are read (DefaultStatsEvery).
	StatsEvery time.Duration
	// StallAfter: an oldest receipt older than this makes Status stalled (DefaultStallAfter).
	StallAfter time.Duration
	// DrainTimeout bounds the last passes on shutdown (DefaultDrainTimeout).
	DrainTimeout time.Duration
}

func (o DrainOptions) withDefaults() DrainOptions {
	if o.Batch <= 0 {
		o.Batch = DefaultDrainBatch
	}
	if o.Poll <= 0 {
		o.Poll = DefaultDrainPoll
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
	return o
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
// the submit-to-receipt latency.
type Drainer struct {
	box  Inbox
	m    *metrics.Metrics
	log  *slog.Logger
	opts DrainOptions

	mu      sync.Mutex
	status  DrainStatus
	failing bool // logged once each way, like the relay's
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
	return &Drainer{box: box, m: m, log: log.With("component", "inbox"), opts: opts.withDefaults()}
}

// Status returns the inbox's last observed state.
func (d *Drainer) Status() DrainStatus {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.status
}

// Start runs the drainer until the returned stop is called; stop returns
// after the last passes (see Run).
func (d *Drainer) Start() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	return func() { cancel(); <-done }
}

// Run drains the inbox on each cue and poll until ctx ends, then makes
// passes over what is left for at most DrainTimeout: stop the binds first,
// so that what they answered is applied before the process ends (what is
// left is applied by the next process or another replica).
func (d *Drainer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); d.watch(ctx) }()
	defer wg.Wait()
	poll := time.NewTicker(d.opts.Poll)
	defer poll.Stop()
	backoff := time.Duration(0)
	for {
		_, more, failed := d.Pass(ctx)
		switch {
		case failed:
			backoff = min(max(2*backoff, 100*time.Millisecond), 5*time.Second)
		case more:
			backoff = 0
			continue // more are waiting
		default:
			backoff = 0
		}
		if backoff > 0 {
			// Not before the backoff, cue or not: an append says nothing
			// of what failed.
			select {
			case <-ctx.Done():
				d.drain()
				return
			case <-time.After(backoff):
			}
			continue
		}
		select {
		case <-ctx.Done():
			d.drain()
			return
		case <-d.box.Inboxed():
		case <-poll.C:
		}
	}
}

func (d *Drainer) drain() {
	ctx, cancel := context.WithTimeout(context.Background(), d.opts.DrainTimeout)
	defer cancel()
	for ctx.Err() == nil {
		if _, more, failed := d.Pass(ctx); failed || !more {
			break
		}
	}
	if st, err := d.box.Inbox(ctx); err == nil && st.Pending > 0 {
		d.log.Warn("receipts left in the inbox at shutdown: the next process or another replica applies them", "receipts", st.Pending)
	}
}

// Pass applies one batch of the inbox's receipts and counts them. It
// returns how many it applied or held, whether more are waiting, and
// whether the database failed.
func (d *Drainer) Pass(ctx context.Context) (took int, more, failed bool) {
	got, more, err := d.box.DrainInbox(ctx, d.opts.Batch)
	var passErr error
	if err != nil && ctx.Err() == nil {
		passErr = err // a pass cut short by the stop is no failure: drain() goes on
	}
	for _, r := range got {
		rc := r.Receipt
		if r.Err != nil {
			if r.Failed {
				// Kept in the inbox (failed set) for inspection: one bad
				// receipt must not stop the others.
				d.m.Receipts.WithLabelValues(rc.OperatorID, "failed").Inc()
				d.log.Error("receipt cannot be stored: set aside in smpp.receipt_inbox", "operator", rc.OperatorID,
					"id", rc.RawID, "status", rc.Status, "text", rc.Raw, "err", r.Err)
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
	d.mu.Lock()
	was := d.failing
	d.failing = err != nil
	if err != nil {
		d.status.LastError = err.Error()
	} else {
		d.status.LastError = ""
	}
	d.mu.Unlock()
	switch {
	case err != nil && !was:
		d.log.Error("receipt inbox: cannot apply receipts; retrying (they stay in the inbox)", "err", err)
	case err == nil && was:
		d.log.Info("receipt inbox: applying receipts again")
	}
}

// watch reads the inbox's size and lag every StatsEvery.
func (d *Drainer) watch(ctx context.Context) {
	t := time.NewTicker(d.opts.StatsEvery)
	defer t.Stop()
	for {
		if st, err := d.box.Inbox(ctx); err == nil {
			d.observe(st)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *Drainer) observe(st store.QueueStats) {
	d.m.InboxPending.Set(float64(st.Pending))
	d.m.InboxLag.Set(st.Lag.Seconds())
	d.mu.Lock()
	defer d.mu.Unlock()
	d.status.Pending, d.status.Lag = st.Pending, st.Lag
	d.status.Stalled = st.Lag > d.opts.StallAfter
}
