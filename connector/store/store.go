package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Defaults for Options.
const (
	DefaultMaxConns     = 16
	DefaultBatchSize    = 256
	DefaultLinger       = 2 * time.Millisecond
	DefaultFlushers     = 2
	DefaultFlushTimeout = 30 * time.Second
	// DefaultPlanCacheMode plans every statement with its values. The batch
	// statements take arrays of varying length, and a generic plan cached
	// while the table was small keeps scanning the whole table as it grows;
	// a custom plan sees the table's current size. Planning costs a fraction
	// of a millisecond per batch.
	DefaultPlanCacheMode = "force_custom_plan"
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
	// PlanCacheMode is the sessions' plan_cache_mode (DefaultPlanCacheMode)
	// unless the DSN sets it. "auto" lets PostgreSQL reuse generic plans:
	// about 20% more throughput once the table has statistics, but a plan
	// cached while the table was nearly empty scans the whole table until
	// autovacuum analyses it (a new deployment's first minutes).
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
	if o.PlanCacheMode == "" {
		o.PlanCacheMode = DefaultPlanCacheMode
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Store is the correlation store. Its methods are safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	opts Options
	log  *slog.Logger

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

	stats stats
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
	// See DefaultPlanCacheMode.
	if _, set := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !set {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = opts.PlanCacheMode
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
