package secrets

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Cached is a Source that keeps, in memory only, the last credential its
// source gave for each operator, so that binds renewed during a Vault outage
// still get one. It never writes it anywhere and logs it only as Credential
// logs itself (without the password).
//
// Get reads from the source every time. What a failure does depends on its
// class (Unavailable, Reason):
//
//   - The source could not answer (ErrUnavailable: Vault unreachable, too
//     slow, sealed, a standby, HTTP 5xx or 429; the connector's own Vault
//     token expired or revoked and no new login possible, ErrTokenInvalid;
//     a timeout): the answer says nothing about the credential, which was
//     valid when last read, so the cached one is returned (nil error) and
//     the operator is marked as served from cache. With nothing cached the
//     error is returned.
//   - The source answered no (ErrNotFound: the secret or its latest version
//     deleted; ErrPermissionDenied: the connector's policy no longer allows
//     the path; ErrInvalid: the secret no longer holds a usable credential;
//     ErrUnknownOperator), or the error is of no known class: these are
//     decisions, usually on purpose (a credential withdrawn, access
//     revoked), so the error is returned and the cached credential is
//     dropped: it must not keep binding, not even in a later outage.
//
// A caller that gives up (its context cancelled or past its deadline before
// the source answered) gets the source's error: that says nothing about the
// source either way.
//
// While an operator is served from cache, Cached reads its credential again
// in the background every Recheck, so that the state (the metric, /readyz)
// ends when the source is back even if no bind asks, and the cache holds the
// latest version by then.
type Cached struct {
	src  Source
	opts CacheOptions
	log  *slog.Logger

	mu      sync.Mutex
	entries map[string]*cacheEntry

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// CacheOptions tune a Cached source. Every field is optional.
type CacheOptions struct {
	Logger *slog.Logger
	// Timeout bounds each read from the source (default 5s): past it the
	// read counts as unavailable and the cached credential is used, so that
	// a black-holed Vault does not hold a bind for the HTTP client's full
	// timeout.
	Timeout time.Duration
	// Recheck is how often an operator served from cache is read again in
	// the background (default 10s).
	Recheck time.Duration
	// Refresh is how often a cached credential is read again while the
	// source answers (default 1m): a credential withdrawn (deleted, access
	// removed) while the binds stay up is dropped within Refresh.
	Refresh time.Duration
	// MaxStale is the age past which a cached credential is no longer
	// served (default 24h): an outage that long may be our own access
	// revoked, which looks the same as Vault down.
	MaxStale time.Duration
	// OnSourceError is called for every failed read from the source, with
	// its Reason.
	OnSourceError func(operatorID, reason string)
	// OnFromCache is called when an operator starts (true) or stops (false)
	// being served from cache.
	OnFromCache func(operatorID string, fromCache bool)
}

// Defaults of CacheOptions.
const (
	DefaultCacheTimeout  = 5 * time.Second
	DefaultCacheRecheck  = 10 * time.Second
	DefaultCacheRefresh  = time.Minute
	DefaultCacheMaxStale = 24 * time.Hour
)

type cacheEntry struct {
	cred   Credential
	have   bool
	readAt time.Time // when cred was read from the source

	// The source's state as the last read left it.
	unavailable bool      // the last read failed as unavailable
	since       time.Time // since when
	lastErr     error
	fromCache   bool          // the last Get was answered from cache
	refreshing  bool          // its refresh goroutine runs
	wake        chan struct{} // tells it the source became unavailable

	// Reads begun (started) and the newest recorded: see begin.
	started, recorded uint64
}

// NewCached wraps src. Close stops its background rechecks.
func NewCached(src Source, o CacheOptions) *Cached {
	if o.Timeout <= 0 {
		o.Timeout = DefaultCacheTimeout
	}
	if o.Recheck <= 0 {
		o.Recheck = DefaultCacheRecheck
	}
	if o.Refresh <= 0 {
		o.Refresh = DefaultCacheRefresh
	}
	if o.MaxStale <= 0 {
		o.MaxStale = DefaultCacheMaxStale
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Cached{src: src, opts: o, log: log.With("component", "credential-cache"),
		entries: map[string]*cacheEntry{}, ctx: ctx, cancel: cancel}
}

// Close stops the background rechecks and waits for them.
func (c *Cached) Close() {
	c.mu.Lock() // no recheck starts after this
	c.cancel()
	c.mu.Unlock()
	c.wg.Wait()
}

// Get implements Source: see Cached.
func (c *Cached) Get(ctx context.Context, operatorID string) (Credential, error) {
	seq := c.begin(operatorID)
	rctx, cancel := context.WithTimeout(ctx, c.readBudget(ctx))
	cred, err := c.src.Get(rctx, operatorID)
	cancel()
	if err == nil {
		c.fresh(operatorID, seq, cred)
		return cred, nil
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return Credential{}, err // the caller gave up: says nothing of the source
	}
	if c.opts.OnSourceError != nil {
		c.opts.OnSourceError(operatorID, Reason(err))
	}
	if !Unavailable(err) {
		c.refused(operatorID, seq, err)
		return Credential{}, err
	}
	if cached, ok := c.fallBack(operatorID, seq, err); ok {
		return cached, nil
	}
	return Credential{}, err
}

// readBudget is how long one read from the source may take: Timeout, but
// at most 60% of what the caller has left, so that a source that takes the
// connection and never answers (a black hole) leaves the caller time to
// bind with the cached credential, rather than its own deadline (a bind's
// timeout, often the same 5 s) ending first and the fallback never coming.
func (c *Cached) readBudget(ctx context.Context) time.Duration {
	budget := c.opts.Timeout
	if dl, ok := ctx.Deadline(); ok {
		budget = min(budget, time.Until(dl)*6/10)
	}
	return max(budget, time.Millisecond)
}

// Watch implements Source: the source's own. (Refusals the watch sees are
// not reported on its channel: the background refresh finds them.)
func (c *Cached) Watch(ctx context.Context, operatorID string, every time.Duration) <-chan Credential {
	return c.src.Watch(ctx, operatorID, every)
}

func (c *Cached) entry(operatorID string) *cacheEntry {
	e := c.entries[operatorID]
	if e == nil {
		e = &cacheEntry{wake: make(chan struct{}, 1)}
		c.entries[operatorID] = e
	}
	return e
}

// begin numbers a read of the operator's credential: a read that ends after
// a later one was recorded is older news and changes nothing (a slow read
// begun before a deletion must not put the deleted credential back).
func (c *Cached) begin(operatorID string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entry(operatorID)
	e.started++
	return e.started
}

// current reports whether the read seq is newer than the last one
// recorded, and records it; under c.mu.
func (e *cacheEntry) current(seq uint64) bool {
	if seq < e.recorded {
		return false
	}
	e.recorded = seq
	return true
}

// fresh records a credential read from the source. The hooks and logs of
// a transition run under the lock, so that they come in the order of the
// transitions.
func (c *Cached) fresh(operatorID string, seq uint64, cred Credential) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entry(operatorID)
	if !e.current(seq) {
		return
	}
	if e.unavailable {
		c.log.Info("credential source back: credential read", "operator", operatorID, "version", cred.Version,
			"unavailable_for", time.Since(e.since).Round(time.Millisecond))
	}
	c.setFromCacheLocked(operatorID, e, false)
	e.cred, e.have, e.readAt = cred, true, time.Now()
	e.unavailable, e.lastErr = false, nil
	c.refreshLocked(operatorID, e)
}

// refused records a definitive refusal: the cached credential is dropped.
func (c *Cached) refused(operatorID string, seq uint64, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entry(operatorID)
	if !e.current(seq) {
		return
	}
	if e.have {
		c.log.Warn("credential source refused the credential: cached credential dropped",
			"operator", operatorID, "error", err)
	}
	c.setFromCacheLocked(operatorID, e, false)
	e.cred, e.have = Credential{}, false
	e.unavailable, e.lastErr = false, err
}

// fallBack records an unavailable source and returns the cached credential,
// if there is one no older than MaxStale.
func (c *Cached) fallBack(operatorID string, seq uint64, err error) (Credential, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entry(operatorID)
	if !e.current(seq) {
		return e.cred, e.have
	}
	if e.have && time.Since(e.readAt) > c.opts.MaxStale {
		// Nobody has vouched for it for that long (our own access may have
		// been revoked, which looks like an outage): no longer used.
		c.log.Warn("credential source unavailable and the cached credential too old to use: dropped",
			"operator", operatorID, "credential", e.cred, "read_ago", time.Since(e.readAt).Round(time.Second),
			"max_stale", c.opts.MaxStale, "error", err)
		c.setFromCacheLocked(operatorID, e, false)
		e.cred, e.have = Credential{}, false
	}
	switch {
	case e.have && !e.fromCache:
		c.log.Warn("credential source unavailable: binding with the cached credential",
			"operator", operatorID, "credential", e.cred, "read_ago", time.Since(e.readAt).Round(time.Second), "error", err)
	case !e.have && !e.unavailable:
		c.log.Warn("credential source unavailable and no credential cached: the operator cannot bind until it is back",
			"operator", operatorID, "error", err)
	}
	if !e.unavailable {
		e.unavailable, e.since = true, time.Now()
		select { // the refresh reads again every Recheck from now
		case e.wake <- struct{}{}:
		default:
		}
	}
	e.lastErr = err
	c.setFromCacheLocked(operatorID, e, e.have)
	return e.cred, e.have
}

// setFromCacheLocked records whether the operator's binds get the cached
// credential, and tells OnFromCache of each change (the gauge, the
// alert's input); under c.mu, so that the changes are told in order.
func (c *Cached) setFromCacheLocked(operatorID string, e *cacheEntry, on bool) {
	if e.fromCache != on && c.opts.OnFromCache != nil {
		c.opts.OnFromCache(operatorID, on)
	}
	e.fromCache = on
}

// refreshLocked starts the operator's background refresh unless it runs;
// under c.mu.
func (c *Cached) refreshLocked(operatorID string, e *cacheEntry) {
	if e.refreshing || c.ctx.Err() != nil {
		return
	}
	e.refreshing = true
	c.wg.Add(1)
	go c.refresh(operatorID)
}

// refresh reads the operator's credential again while one is cached: every
// Recheck while it is served from cache (so that the state, the metric and
// /readyz, ends when the source is back even if no bind asks), every
// Refresh otherwise (so that a credential withdrawn while the binds stay
// up is dropped now, not used by a rebind in a later outage). It stops
// once nothing is cached; the next credential read starts it again.
func (c *Cached) refresh(operatorID string) {
	defer c.wg.Done()
	for {
		c.mu.Lock()
		e := c.entry(operatorID)
		if !e.have || c.ctx.Err() != nil {
			e.refreshing = false // in the same section as the check: a fresh read restarts it
			c.mu.Unlock()
			return
		}
		every := c.opts.Refresh
		if e.fromCache || e.unavailable {
			every = c.opts.Recheck
		}
		wake := e.wake
		c.mu.Unlock()
		select {
		case <-c.ctx.Done():
		case <-wake:
		case <-time.After(every):
			// Its outcome is recorded as any Get's (bounded by Timeout).
			_, _ = c.Get(c.ctx, operatorID)
		}
	}
}

// CacheStatus is an operator whose credential source is unavailable.
type CacheStatus struct {
	Operator string
	// FromCache: its last Get was answered with the cached credential
	// (Version, read at ReadAt). Otherwise nothing was cached.
	FromCache bool
	Version   string
	ReadAt    time.Time
	// Since when the source has been unavailable, and its last error.
	Since time.Time
	Err   error
}

// Unavailable lists the operators whose last read found the source
// unavailable, in no particular order.
func (c *Cached) Unavailable() []CacheStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []CacheStatus
	for id, e := range c.entries {
		if !e.unavailable {
			continue
		}
		out = append(out, CacheStatus{Operator: id, FromCache: e.fromCache, Version: e.cred.Version, ReadAt: e.readAt,
			Since: e.since, Err: e.lastErr})
	}
	return out
}

var _ Source = (*Cached)(nil)
