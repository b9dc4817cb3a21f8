package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/smpp-connector/smpp-connector/connector/internal/queuecursor"
)

// Defaults for Options.
const (
	DefaultMaxConns     = 16
	DefaultBatchSize    = 256
	DefaultLinger       = 2 * time.Millisecond
	DefaultFlushers     = 2
	DefaultFlushTimeout = 30 * time.Second
	// GenericPlanRows is how many rows message_correlations' statistics must
	// count before the writer's statements on it may use generic plans
	// (plan_cache_mode auto, set per transaction: firstRound); below it, and
	// for every statement on the queue tables, the sessions plan each
	// statement with its values (force_custom_plan). Planning the batch
	// statements is costly: measured, it took as much of PostgreSQL's time
	// as executing them at a steady 1,000 messages a second (batches of
	// ten), and a quarter of its CPU at full speed. But a generic plan is
	// cached: one made while the table was nearly empty scans the whole
	// table as it grows, until autovacuum analyses it again (with 50 rows
	// analysed, every statement of a message's life does). From this size on
	// the planner already probes the indexes for every statement
	// (TestGenericPlansUseIndexesAtTheThreshold), and growth only makes an
	// index probe a better choice. The store checks the statistics when it
	// opens and every GenericPlanCheck.
	GenericPlanRows = 100_000
	// GenericPlanCheck is how often the store reads the table's statistics
	// again to decide on generic plans.
	GenericPlanCheck = time.Minute
	// DefaultRandomPageCost is the sessions' random_page_cost. PostgreSQL's
	// default (4) prices an index probe for a disk that seeks; the store's
	// statements probe a few hundred keys of rows written minutes ago, in
	// shared buffers. At 4 the planner scanned message_correlations whole
	// for every batch until the table held about 20,000 rows (a new
	// deployment's first hour at a low rate; measured: a sequential scan per
	// statement took most of PostgreSQL's time in a 20,000-message run). 1.1
	// is the usual setting for SSDs and cached data.
	DefaultRandomPageCost = "1.1"
)

// Errors.
var (
	// ErrClosed is returned by calls made after Close.
	ErrClosed = errors.New("store: closed")
	// ErrInvalid wraps every validation error (the request was not sent).
	ErrInvalid = errors.New("store: invalid request")
	// ErrNotPrepared is returned by RecordOutcome when the part has no row
	// (PrepareParts was not called for it, or the row was purged).
	ErrNotPrepared = errors.New("store: part not prepared")
	// ErrMismatch is returned by PrepareParts, with the states, when rows
	// already exist for the message with another operator or part count.
	ErrMismatch = errors.New("store: message already stored with another operator or part count")
	// ErrConflict is returned by PrepareParts, with the states, when the
	// message's parts are stored with another content fingerprint: the same
	// message id was reused for a different message.
	ErrConflict = errors.New("store: message already stored with different content")
)

// Options tune a Store. Zero values take the defaults.
type Options struct {
	// MaxConns is the pool size (DefaultMaxConns). The writer uses up to
	// Flushers connections; the rest serve PrepareParts and maintenance.
	MaxConns int32
	// BatchSize is the most requests written in one transaction (DefaultBatchSize).
	BatchSize int
	// Linger is how long the writer waits for more requests after the first
	// of a batch (DefaultLinger). Negative: do not wait.
	Linger time.Duration
	// InboxLinger is how long the receipt inbox's writer waits for more
	// receipts after the first of an INSERT (default 0: none; what came
	// while the previous INSERT committed goes in the next anyway). Each
	// INSERT is a commit with its WAL flush; at moderate rates a receipt
	// seldom finds company without a linger, and a deliver_sm_resp can
	// wait a few milliseconds (an SMSC keeps about a hundred unanswered).
	InboxLinger time.Duration
	// Flushers is how many batches are written at once (DefaultFlushers).
	Flushers int
	// FlushTimeout bounds one batch's transaction, retries included (DefaultFlushTimeout).
	FlushTimeout time.Duration
	// PlanCacheMode is the sessions' plan_cache_mode for every statement,
	// unless the DSN sets it (plan_cache_mode, or -c plan_cache_mode in
	// options). Empty: force_custom_plan, and generic plans for the writer's
	// statements on message_correlations once it is big (GenericPlanRows).
	PlanCacheMode string
	// Logger receives warnings (displaced SMSC ids, retried batches). Default slog.Default().
	Logger *slog.Logger
	// Shadow marks the events this store writes as a shadow replica's
	// (Phase 2): a relay writes them to the comparison log, and a live relay
	// finding them left over drops them rather than publish them.
	Shadow bool
}

func (o Options) withDefaults() Options {
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Linger == 0 {
		o.Linger = DefaultLinger
	}
	if o.Flushers <= 0 {
		o.Flushers = DefaultFlushers
	}
	if o.FlushTimeout <= 0 {
		o.FlushTimeout = DefaultFlushTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// setsPlanCacheMode reports whether the DSN sets plan_cache_mode, as a
// parameter or in options (-c plan_cache_mode=...).
func setsPlanCacheMode(params map[string]string) bool {
	_, set := params["plan_cache_mode"]
	return set || strings.Contains(params["options"], "plan_cache_mode")
}

// bigTableSQL reports whether message_correlations' statistics count
// GenericPlanRows rows (reltuples: -1 before the first ANALYZE).
const bigTableSQL = `
SELECT coalesce((SELECT reltuples FROM pg_class WHERE oid = to_regclass('smpp.message_correlations')), -1) >= $1::float8`

// checkPlans decides whether the writer's statements on
// message_correlations may use generic plans (GenericPlanRows). An error
// leaves the decision as it was.
func (s *Store) checkPlans(ctx context.Context) {
	var big bool
	if err := s.pool.QueryRow(ctx, bigTableSQL, float64(GenericPlanRows)).Scan(&big); err != nil {
		s.log.Warn("store: reading message_correlations' statistics for the plan mode", "error", err)
		return
	}
	if s.genericPlans.Swap(big) != big {
		s.log.Info("store: generic plans for the statements on message_correlations", "on", big, "rows_at_least", GenericPlanRows)
	}
}

// watchPlans checks the plan mode every GenericPlanCheck until Close.
func (s *Store) watchPlans() {
	defer s.done.Done()
	t := time.NewTicker(GenericPlanCheck)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			s.checkPlans(ctx)
			cancel()
		}
	}
}

// Store is the correlation store. Its methods are safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	opts Options
	log  *slog.Logger

	// genericPlans: the writer's statements on message_correlations run
	// with plan_cache_mode auto (GenericPlanRows); stop ends watchPlans.
	genericPlans atomic.Bool
	stop         chan struct{}

	mu      sync.RWMutex // guards closed against sends on queue
	closed  bool
	queue   chan *request
	batches chan []*request
	done    sync.WaitGroup

	// written is signalled (without blocking) after a commit that wrote
	// events to the outbox: the relay's cue (Events).
	written chan struct{}

	// The receipt inbox (inbox.go): AppendReceipt's queue, and the drain's
	// cue, signalled after each append.
	inbox   chan *inboxRequest
	inboxed chan struct{}

	// Where the next reads of the outbox (live and shadow relays) and of
	// the inbox begin (connector/internal/queuecursor).
	outboxCursors [2]*queuecursor.Cursor
	inboxCursor   *queuecursor.Cursor

	stats stats
}

// newCursors gives the relay's and the drain's reads new cursors.
func (s *Store) newCursors(o queuecursor.Options) {
	s.outboxCursors = [2]*queuecursor.Cursor{queuecursor.New(o), queuecursor.New(o)}
	s.inboxCursor = queuecursor.New(o)
}

// Open connects to the database at dsn (migrated with package migrations)
// and starts the writer.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: parse dsn: %w", err)
	}
	cfg.MaxConns = opts.MaxConns
	// See GenericPlanRows.
	adaptive := false
	if !setsPlanCacheMode(cfg.ConnConfig.RuntimeParams) {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = cmp.Or(opts.PlanCacheMode, queuePlans)
		adaptive = opts.PlanCacheMode == ""
	}
	// See DefaultRandomPageCost.
	if _, set := cfg.ConnConfig.RuntimeParams["random_page_cost"]; !set {
		cfg.ConnConfig.RuntimeParams["random_page_cost"] = DefaultRandomPageCost
	}
	if min := int32(opts.Flushers); cfg.MinConns < min && min <= cfg.MaxConns {
		cfg.MinConns = min
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	s := &Store{
		pool:    pool,
		opts:    opts,
		log:     opts.Logger,
		queue:   make(chan *request, 4*opts.BatchSize),
		batches: make(chan []*request),
		written: make(chan struct{}, 1),
		inbox:   make(chan *inboxRequest, 4*opts.BatchSize),
		inboxed: make(chan struct{}, 1),
		stop:    make(chan struct{}),
	}
	s.newCursors(queuecursor.Options{})
	if adaptive {
		s.checkPlans(ctx)
		s.done.Add(1)
		go s.watchPlans()
	}
	s.done.Add(2 + opts.Flushers)
	go s.collect()
	go s.appendLoop() // one: the inbox's ids follow its commits (inbox.go)
	for range opts.Flushers {
		go s.flusher()
	}
	return s, nil
}

// Close stops accepting requests, writes every request already accepted
// (each caller gets its result) and closes the pool.
func (s *Store) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.queue)
	close(s.inbox)
	close(s.stop)
	s.mu.Unlock()
	s.done.Wait()
	s.pool.Close()
}

// Pool is the store's connection pool (health checks, tests).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Stats are the writer's counters since Open.
type Stats struct {
	Batches   int64 // transactions committed by the writer
	Requests  int64 // requests written (outcomes and receipts)
	Retries   int64 // batch attempts retried (deadlock, lost connection)
	Isolated  int64 // batches rewritten one request at a time after an error
	Held      int64 // receipts held for a later submit_sm_resp
	Released  int64 // held receipts applied by RecordOutcome
	Swept     int64 // held receipts applied by SweepHeldReceipts (no newer part took the key)
	Displaced int64 // rows whose SMSC id was taken over by a newer part (id reuse)
	Reuses    int64 // batches written a second time to release a reused SMSC id
	// FlushTime is the time spent writing batches (committed or not).
	FlushTime time.Duration

	Appends  int64 // receipt inbox INSERTs committed (AppendReceipt's group commits)
	Appended int64 // receipts appended to the inbox
	// AppendTime is the time spent in inbox INSERTs.
	AppendTime time.Duration
}

type stats struct {
	batches, requests, retries, isolated, held, released, swept, displaced, reuses atomic.Int64
	flushNanos                                                                     atomic.Int64
	appends, appended, appendNanos                                                 atomic.Int64
}

// Stats returns the writer's counters.
func (s *Store) Stats() Stats {
	return Stats{
		Batches:   s.stats.batches.Load(),
		Requests:  s.stats.requests.Load(),
		Retries:   s.stats.retries.Load(),
		Isolated:  s.stats.isolated.Load(),
		Held:      s.stats.held.Load(),
		Released:  s.stats.released.Load(),
		Swept:     s.stats.swept.Load(),
		Displaced: s.stats.displaced.Load(),
		Reuses:    s.stats.reuses.Load(),
		FlushTime: time.Duration(s.stats.flushNanos.Load()),

		Appends:    s.stats.appends.Load(),
		Appended:   s.stats.appended.Load(),
		AppendTime: time.Duration(s.stats.appendNanos.Load()),
	}
}
