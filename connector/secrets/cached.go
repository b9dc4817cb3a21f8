package secrets

import (
	"context"
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
	// OnSourceError is called for every failed read from the source, with
	// its Reason.
	OnSourceError func(operatorID, reason string)
	// OnFromCache is called when an operator starts (true) or stops (false)
	// being served from cache.
	OnFromCache func(operatorID string, fromCache bool)
}

// Defaults of CacheOptions.
const (
	DefaultCacheTimeout = 5 * time.Second
	DefaultCacheRecheck = 10 * time.Second
)

type cacheEntry struct {
	cred   Credential
	have   bool
	readAt time.Time // when cred was read from the source

	// The source's state as the last read left it.
	unavailable bool      // the last read failed as unavailable
	since       time.Time // since when
	lastErr     error
	fromCache   bool // the last Get was answered from cache
	rechecking  bool
}

// NewCached wraps src. Close stops its background rechecks.
func NewCached(src Source, o CacheOptions) *Cached {
	if o.Timeout <= 0 {
		o.Timeout = DefaultCacheTimeout
	}
	if o.Recheck <= 0 {
		o.Recheck = DefaultCacheRecheck
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
	rctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	cred, err := c.src.Get(rctx, operatorID)
	cancel()
	if err == nil {
		c.fresh(operatorID, cred)
		return cred, nil
	}
	if ctx.Err() != nil {
		return Credential{}, err // the caller gave up
	}
	if c.opts.OnSourceError != nil {
		c.opts.OnSourceError(operatorID, Reason(err))
	}
	if !Unavailable(err) {
		c.refused(operatorID, err)
		return Credential{}, err
	}
	if cached, ok := c.fallBack(operatorID, err); ok {
		return cached, nil
	}
	return Credential{}, err
}

// Watch implements Source: the source's own.
func (c *Cached) Watch(ctx context.Context, operatorID string, every time.Duration) <-chan Credential {
	return c.src.Watch(ctx, operatorID, every)
}

func (c *Cached) entry(operatorID string) *cacheEntry {
	e := c.entries[operatorID]
	if e == nil {
		e = &cacheEntry{}
		c.entries[operatorID] = e
	}
	return e
}

// fresh records a credential read from the source. The hooks and logs of
// a transition run under the lock, so that they come in the order of the
// transitions.
func (c *Cached) fresh(operatorID string, cred Credential) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entry(operatorID)
	if e.unavailable {
		c.log.Info("credential source back: credential read", "operator", operatorID, "version", cred.Version,
			"unavailable_for", time.Since(e.since).Round(time.Millisecond))
	}
	if e.fromCache && c.opts.OnFromCache != nil {
		c.opts.OnFromCache(operatorID, false)
	}
	e.cred, e.have, e.readAt = cred, true, time.Now()
	e.unavailable, e.fromCache, e.lastErr = false, false, nil
}

// refused records a definitive refusal: the cached credential is dropped.
func (c *Cached) refused(operatorID string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entry(operatorID)
	if e.have {
		c.log.Warn("credential source refused the credential: cached credential dropped",
			"operator", operatorID, "error", err)
	}
	if e.fromCache && c.opts.OnFromCache != nil {
		c.opts.OnFromCache(operatorID, false)
	}
	e.cred, e.have = Credential{}, false
	e.unavailable, e.fromCache, e.lastErr = false, false, err
}

// fallBack records an unavailable source and returns the cached credential,
// if any.
func (c *Cached) fallBack(operatorID string, err error) (Credential, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entry(operatorID)
	switch {
	case e.have && !e.fromCache:
		c.log.Warn("credential source unavailable: binding with the cached credential",
			"operator", operatorID, "credential", e.cred, "read_ago", time.Since(e.readAt).Round(time.Second), "error", err)
		if c.opts.OnFromCache != nil {
			c.opts.OnFromCache(operatorID, true)
		}
	case !e.have && !e.unavailable:
		c.log.Warn("credential source unavailable and no credential cached: the operator cannot bind until it is back",
			"operator", operatorID, "error", err)
	}
	if !e.unavailable {
		e.unavailable, e.since = true, time.Now()
	}
	e.lastErr, e.fromCache = err, e.have
	if e.have && !e.rechecking && c.ctx.Err() == nil {
		e.rechecking = true
		c.wg.Add(1)
		go c.recheck(operatorID)
	}
	return e.cred, e.have
}

// recheck reads the operator's credential every Recheck while it is served
// from cache.
func (c *Cached) recheck(operatorID string) {
	defer c.wg.Done()
	defer func() {
		c.mu.Lock()
		c.entry(operatorID).rechecking = false
		c.mu.Unlock()
	}()
	t := time.NewTicker(c.opts.Recheck)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		c.mu.Lock()
		serving := c.entry(operatorID).fromCache
		c.mu.Unlock()
		if !serving {
			return
		}
		// Its outcome is recorded as any Get's.
		_, _ = c.Get(c.ctx, operatorID)
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
