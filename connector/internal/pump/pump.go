// Package pump runs the worker of a queue table in PostgreSQL: the relay of
// the event outbox (connector/relay) and the drainer of the receipt inbox
// (connector/inbound) move rows the same way. A pass runs on each cue from
// the writers of this process (after a short linger, so that the next few
// writes join it), on a poll (rows another process wrote, or a dead one
// left), and again at once while more is waiting; after a failed pass the
// next waits a backoff (100 ms doubling to 5 s), cue or not. On stop it
// makes last passes, for a bounded time, until a pass takes nothing. A
// watcher reads the queue's size and the age of its oldest row for the
// metrics and the readiness status (stalled when the oldest is too old).
package pump

import (
	"context"
	"sync"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/store"
)

// Options time a Loop. Zero values take the defaults.
type Options struct {
	// Poll is how often a pass runs without a cue (DefaultPoll).
	Poll time.Duration
	// Linger is how long a pass waits after a cue for more writes to join
	// it; zero: none.
	Linger time.Duration
	// StatsEvery is how often the queue's size and lag are read (DefaultStatsEvery).
	StatsEvery time.Duration
	// StallAfter: an oldest row older than this makes the status stalled
	// (DefaultStallAfter).
	StallAfter time.Duration
	// DrainTimeout bounds the last passes on stop (DefaultDrainTimeout).
	DrainTimeout time.Duration
}

// Defaults for Options.
const (
	DefaultPoll         = 500 * time.Millisecond
	DefaultStatsEvery   = 2 * time.Second
	DefaultStallAfter   = 30 * time.Second
	DefaultDrainTimeout = 5 * time.Second
)

func (o Options) withDefaults() Options {
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
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

// Worker is what a Loop drives.
type Worker interface {
	// Pass moves one batch: took rows, more waiting now (run again at
	// once), or failed (back off).
	Pass(ctx context.Context) (took int, more, failed bool)
	// Cue is signalled (without blocking) when this process wrote rows.
	Cue() <-chan struct{}
	// Stats reads the queue's size and the age of its oldest row.
	Stats(ctx context.Context) (store.QueueStats, error)
	// Observed receives each reading of Stats (the metrics).
	Observed(store.QueueStats)
	// Left is called after the last passes with what Stats reads then,
	// when rows are left (for a log line).
	Left(store.QueueStats)
}

// Status is the queue as last read, for readiness.
type Status struct {
	Pending int           // rows waiting
	Lag     time.Duration // age of the oldest
	// Stalled: the oldest row is older than Options.StallAfter.
	Stalled bool
}

// Loop runs a Worker.
type Loop struct {
	w    Worker
	opts Options

	mu     sync.Mutex
	status Status
}

// New returns a loop for w.
func New(w Worker, opts Options) *Loop { return &Loop{w: w, opts: opts.withDefaults()} }

// Status returns the queue's last reading.
func (l *Loop) Status() Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.status
}

// Start runs the loop (Run) until the returned stop is called; stop returns
// once the last passes are done.
func (l *Loop) Start() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx) }()
	return func() { cancel(); <-done }
}

// Run runs passes until ctx ends, then the last passes (drain).
func (l *Loop) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); l.watch(ctx) }()
	defer wg.Wait()

	poll := time.NewTicker(l.opts.Poll)
	defer poll.Stop()
	backoff := time.Duration(0)
	for {
		_, more, failed := l.w.Pass(ctx)
		switch {
		case failed:
			backoff = min(max(2*backoff, 100*time.Millisecond), 5*time.Second)
		case more:
			backoff = 0
			continue
		default:
			backoff = 0
		}
		if backoff > 0 {
			// Not before the backoff, cue or not: a write says nothing
			// of what failed.
			select {
			case <-ctx.Done():
				l.drain()
				return
			case <-time.After(backoff):
			}
			continue
		}
		select {
		case <-ctx.Done():
			l.drain()
			return
		case <-l.w.Cue():
			if l.opts.Linger > 0 {
				select {
				case <-ctx.Done():
				case <-time.After(l.opts.Linger):
				}
			}
		case <-poll.C:
		}
	}
}

// drain makes passes until one takes nothing or fails, or the drain
// timeout ends (a pass may leave rows for the next: the relay publishes one
// event per part per pass).
func (l *Loop) drain() {
	ctx, cancel := context.WithTimeout(context.Background(), l.opts.DrainTimeout)
	defer cancel()
	for ctx.Err() == nil {
		if took, _, failed := l.w.Pass(ctx); failed || took == 0 {
			break
		}
	}
	if st, err := l.w.Stats(ctx); err == nil && st.Pending > 0 {
		l.w.Left(st)
	}
}

// watch reads the queue's size and lag every StatsEvery.
func (l *Loop) watch(ctx context.Context) {
	t := time.NewTicker(l.opts.StatsEvery)
	defer t.Stop()
	for {
		if st, err := l.w.Stats(ctx); err == nil {
			l.observe(st)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Observe records a reading of the queue (the watcher's; tests).
func (l *Loop) Observe(st store.QueueStats) { l.observe(st) }

func (l *Loop) observe(st store.QueueStats) {
	l.w.Observed(st)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.status = Status{Pending: st.Pending, Lag: st.Lag, Stalled: st.Lag > l.opts.StallAfter}
}

// Failures follows a worker's passes as they fail and recover: the last
// error (for the status) and the turns, so that a worker logs the first
// failure and the recovery once each, not every pass of an outage.
type Failures struct {
	mu      sync.Mutex
	failing bool
	last    string
}

// Note records a pass's error (nil: it succeeded) and reports whether this
// pass began a failure or ended one.
func (f *Failures) Note(err error) (began, ended bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	was := f.failing
	f.failing = err != nil
	f.last = ""
	if err != nil {
		f.last = err.Error()
	}
	return err != nil && !was, err == nil && was
}

// Last is the last pass's error, "" once a pass succeeded.
func (f *Failures) Last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}
