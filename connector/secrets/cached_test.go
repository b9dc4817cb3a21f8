package secrets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/smpp-connector/smpp-connector/internal/testutil"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
)

// These tests run the cache over the real Vault (main_test.go). Vault's
// outages are played by vaultProxy, a TCP proxy on loopback between the
// client and Vault that the test stops (the port closed: connection
// refused, as a stopped Vault), black-holes (connections accepted, never
// answered), or turns into a sealed Vault (HTTP 503 with Vault's sealed
// error). While it is up every byte goes to the real Vault and back.

type proxyMode int

const (
	proxyUp proxyMode = iota
	proxyDown
	proxyBlackhole
	proxySealed
)

type vaultProxy struct {
	t      *testing.T
	addr   string // host:port, the same across a stop and a start
	target string

	mu    sync.Mutex
	mode  proxyMode
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func startVaultProxy(t *testing.T) *vaultProxy {
	t.Helper()
	u, err := url.Parse(env.VaultAddr)
	if err != nil {
		t.Fatal(err)
	}
	p := &vaultProxy{t: t, target: u.Host, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() {
		p.set(proxyDown)
		p.wg.Wait()
	})
	return p
}

// URL is the Vault address clients use.
func (p *vaultProxy) URL() string { return "http://" + p.addr }

func (p *vaultProxy) serve(ln net.Listener) {
	p.ln = ln
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			mode := p.mode
			p.conns[c] = struct{}{}
			p.mu.Unlock()
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				defer p.drop(c)
				p.handle(c, mode)
			}()
		}
	}()
}

func (p *vaultProxy) drop(c net.Conn) {
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *vaultProxy) handle(c net.Conn, mode proxyMode) {
	switch mode {
	case proxyBlackhole:
		io.Copy(io.Discard, c) // until the client or set closes it
	case proxySealed:
		// Each request gets a sealed Vault's answer; the connection is
		// closed after it, so the client sends nothing more on it.
		buf := make([]byte, 64<<10)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _ := c.Read(buf)
		if n == 0 {
			return
		}
		body := `{"errors":["Vault is sealed"]}`
		fmt.Fprintf(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	default:
		v, err := net.Dial("tcp", p.target)
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns[v] = struct{}{}
		p.mu.Unlock()
		defer p.drop(v)
		done := make(chan struct{}, 2)
		go func() { io.Copy(v, c); done <- struct{}{} }()
		go func() { io.Copy(c, v); done <- struct{}{} }()
		<-done
	}
}

// set switches the mode: every open connection is closed (a stopped Vault
// takes its connections with it), and in proxyDown the port is closed too.
func (p *vaultProxy) set(mode proxyMode) {
	p.t.Helper()
	p.mu.Lock()
	old := p.mode
	p.mode = mode
	for c := range p.conns {
		c.Close()
	}
	ln := p.ln
	p.mu.Unlock()
	switch {
	case mode == proxyDown && old != proxyDown:
		ln.Close()
	case mode != proxyDown && old == proxyDown:
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			p.t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
		}
		p.mu.Lock()
		p.serve(ln)
		p.mu.Unlock()
	}
}

// cacheRecorder records Cached's hooks as the metrics would show them.
type cacheRecorder struct {
	mu        sync.Mutex
	fromCache map[string]bool
	flips     map[string]int
	errors    map[string]int // operator/reason
}

func newCacheRecorder() *cacheRecorder {
	return &cacheRecorder{fromCache: map[string]bool{}, flips: map[string]int{}, errors: map[string]int{}}
}

func (r *cacheRecorder) options(o CacheOptions) CacheOptions {
	o.OnFromCache = func(op string, on bool) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.fromCache[op] == on {
			panic(fmt.Sprintf("OnFromCache(%s, %v) twice in a row", op, on))
		}
		r.fromCache[op] = on
		r.flips[op]++
	}
	o.OnSourceError = func(op, reason string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.errors[op+"/"+reason]++
	}
	return o
}

func (r *cacheRecorder) cached(op string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fromCache[op]
}

func (r *cacheRecorder) errorCount(op, reason string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.errors[op+"/"+reason]
}

// newCached is a Cached over a Vault client that goes through a proxy.
func newCached(t *testing.T, auth VaultAuth, o CacheOptions) (*Cached, *vaultProxy, *cacheRecorder, *testutil.LogBuffer) {
	t.Helper()
	p := startVaultProxy(t)
	v, _ := newVault(t, VaultConfig{Address: p.URL(), Auth: auth})
	logs := &testutil.LogBuffer{}
	rec := newCacheRecorder()
	if o.Recheck == 0 {
		o.Recheck = time.Hour // rechecks off unless the test wants them
	}
	if o.Refresh == 0 {
		o.Refresh = time.Hour // refreshes too
	}
	o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := NewCached(v, rec.options(o))
	t.Cleanup(c.Close)
	return c, p, rec, logs
}

func mustGet(t *testing.T, c *Cached, op, wantPassword, wantVersion string) {
	t.Helper()
	cred, err := c.Get(context.Background(), op)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if cred.Password != wantPassword || cred.Version != wantVersion {
		t.Fatalf("Get: %v, password %q; want %q version %s", cred, cred.Password, wantPassword, wantVersion)
	}
}

// The case: read through the cache, Vault stops, the cached
// credential is served (and said so, once); Vault back, a fresh read ends
// it; a secret deleted while Vault is up is an error, not a fallback, and
// is not served in a later outage either.
func TestCachedServesLastCredentialWhileVaultIsDown(t *testing.T) {
	op := testenv.RandomName("mno")
	path := DefaultVaultPath(op)
	put(t, path, map[string]any{"system_id": "acme", "password": "v1"})
	c, proxy, rec, logs := newCached(t, nil, CacheOptions{})

	mustGet(t, c, op, "v1", "1")
	if rec.cached(op) || len(c.Unavailable()) != 0 {
		t.Fatal("served from cache while Vault is up")
	}

	proxy.set(proxyDown)
	for range 3 { // rebinds: each one gets the cached credential
		mustGet(t, c, op, "v1", "1")
	}
	if !rec.cached(op) {
		t.Fatal("the metric does not say the credential comes from the cache")
	}
	st := c.Unavailable()
	if len(st) != 1 || st[0].Operator != op || !st[0].FromCache || st[0].Version != "1" || !errors.Is(st[0].Err, ErrUnavailable) {
		t.Fatalf("status %+v", st)
	}
	if n := rec.errorCount(op, ReasonUnavailable); n != 3 {
		t.Errorf("%d unavailable errors counted, want 3", n)
	}
	if n := strings.Count(logs.String(), "binding with the cached credential"); n != 1 {
		t.Errorf("warned %d times, want once per transition:\n%s", n, logs)
	}
	if l := logs.String(); strings.Contains(l, "password=v1") || !strings.Contains(l, "password=[redacted]") {
		t.Fatalf("the logs show the password:\n%s", logs)
	}

	// Vault back, with a new version meanwhile: read fresh.
	proxy.set(proxyUp)
	kv := env.VaultAdmin(t).KVv2(env.VaultKVMount)
	if _, err := kv.Put(context.Background(), path, map[string]any{"system_id": "acme", "password": "v2"}); err != nil {
		t.Fatal(err)
	}
	mustGet(t, c, op, "v2", "2")
	if rec.cached(op) || len(c.Unavailable()) != 0 {
		t.Fatal("still served from cache after a fresh read")
	}
	if err := logs.WaitFor("credential source back", time.Second); err != nil {
		t.Fatal(err)
	}

	// Deleted on purpose while Vault is up: an error, no fallback.
	if err := kv.Delete(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	if cred, err := c.Get(context.Background(), op); !errors.Is(err, ErrNotFound) || cred.Password != "" {
		t.Fatalf("deleted secret: %v, %v", cred, err)
	}
	// ... and the dropped credential is not served in a later outage.
	proxy.set(proxyDown)
	if cred, err := c.Get(context.Background(), op); !errors.Is(err, ErrUnavailable) || cred.Password != "" {
		t.Fatalf("outage after the deletion: %v, %v", cred, err)
	}
	if rec.cached(op) {
		t.Fatal("the metric says from cache with nothing cached")
	}
	if st := c.Unavailable(); len(st) != 1 || st[0].FromCache {
		t.Fatalf("status %+v", st)
	}
}

// Each class of failure: those saying the source could not answer fall back
// to the cached credential; those saying no drop it.
func TestCachedFallsBackOnlyWhenTheSourceCannotAnswer(t *testing.T) {
	ctx := context.Background()
	kv := env.VaultAdmin(t).KVv2(env.VaultKVMount)

	for _, tc := range []struct {
		name    string
		reason  string
		timeout time.Duration
		// outage breaks the source after the first read; restore mends it.
		outage  func(t *testing.T, p *vaultProxy, op, policy string)
		restore func(t *testing.T, p *vaultProxy, op, policy string)
	}{
		// The client retries twice (about 2.5 s) before it gives up: the
		// default timeout (5 s) lets it.
		{"vault stopped (connection refused)", ReasonUnavailable, 0,
			func(t *testing.T, p *vaultProxy, _, _ string) { p.set(proxyDown) },
			func(t *testing.T, p *vaultProxy, _, _ string) { p.set(proxyUp) }},
		{"vault sealed (HTTP 503)", ReasonUnavailable, 0,
			func(t *testing.T, p *vaultProxy, _, _ string) { p.set(proxySealed) },
			func(t *testing.T, p *vaultProxy, _, _ string) { p.set(proxyUp) }},
		{"vault not answering (timeout)", ReasonTimeout, time.Second,
			func(t *testing.T, p *vaultProxy, _, _ string) { p.set(proxyBlackhole) },
			func(t *testing.T, p *vaultProxy, _, _ string) { p.set(proxyUp) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op := testenv.RandomName("mno")
			put(t, DefaultVaultPath(op), map[string]any{"system_id": "acme", "password": "pw"})
			c, p, rec, _ := newCached(t, nil, CacheOptions{Timeout: tc.timeout})
			mustGet(t, c, op, "pw", "1")
			tc.outage(t, p, op, "")
			mustGet(t, c, op, "pw", "1")
			if !rec.cached(op) || rec.errorCount(op, tc.reason) != 1 {
				t.Fatalf("from cache %v, errors %v", rec.cached(op), rec.errors)
			}
			tc.restore(t, p, op, "")
			mustGet(t, c, op, "pw", "1")
			if rec.cached(op) {
				t.Fatal("still from cache")
			}
		})
	}

	// The connector's token revoked (or expired: Vault answers the same)
	// and token auth cannot log in again: its access is broken, the
	// credential is not in question.
	t.Run("token revoked, no re-login", func(t *testing.T) {
		op := testenv.RandomName("mno")
		put(t, DefaultVaultPath(op), map[string]any{"system_id": "acme", "password": "pw"})
		tok := policyToken(t, readPolicy(DefaultVaultPath(op)))
		c, _, rec, _ := newCached(t, TokenAuth{Token: tok}, CacheOptions{})
		mustGet(t, c, op, "pw", "1")
		if err := env.VaultAdmin(t).Auth().Token().RevokeTree(tok); err != nil {
			t.Fatal(err)
		}
		mustGet(t, c, op, "pw", "1")
		if !rec.cached(op) || rec.errorCount(op, ReasonTokenInvalid) != 1 {
			t.Fatalf("from cache %v, errors %v", rec.cached(op), rec.errors)
		}
		st := c.Unavailable()
		if len(st) != 1 || !errors.Is(st[0].Err, ErrTokenInvalid) || errors.Is(st[0].Err, ErrPermissionDenied) ||
			!strings.Contains(st[0].Err.Error(), "give the service a new token") {
			t.Fatalf("status %+v", st)
		}
	})

	// Definitive answers: the credential is dropped, even for a later
	// outage.
	for _, tc := range []struct {
		name   string
		reason string
		is     error
		refuse func(t *testing.T, op, policy string)
	}{
		{"secret deleted", ReasonNotFound, ErrNotFound, func(t *testing.T, op, _ string) {
			if err := kv.DeleteMetadata(ctx, DefaultVaultPath(op)); err != nil {
				t.Fatal(err)
			}
		}},
		{"latest version deleted", ReasonNotFound, ErrNotFound, func(t *testing.T, op, _ string) {
			if err := kv.Delete(ctx, DefaultVaultPath(op)); err != nil {
				t.Fatal(err)
			}
		}},
		{"access revoked by policy", ReasonPermission, ErrPermissionDenied, func(t *testing.T, op, policy string) {
			if err := env.VaultAdmin(t).Sys().PutPolicy(policy, readPolicy("smpp/operators/nothing-here")); err != nil {
				t.Fatal(err)
			}
		}},
		{"invalid credential", ReasonInvalid, ErrInvalid, func(t *testing.T, op, _ string) {
			if _, err := kv.Put(ctx, DefaultVaultPath(op), map[string]any{"system_id": "acme", "password": "far-too-long"}); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op := testenv.RandomName("mno")
			put(t, DefaultVaultPath(op), map[string]any{"system_id": "acme", "password": "pw"})
			policy := testenv.RandomName("smpp-test")
			a := env.VaultAdmin(t)
			if err := a.Sys().PutPolicy(policy, readPolicy(DefaultVaultPath(op))); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { a.Sys().DeletePolicy(policy) })
			s, err := a.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{policy}, TTL: "10m"})
			if err != nil {
				t.Fatal(err)
			}
			tok := s.Auth.ClientToken
			t.Cleanup(func() { a.Auth().Token().RevokeTree(tok) })

			c, p, rec, logs := newCached(t, TokenAuth{Token: tok}, CacheOptions{})
			mustGet(t, c, op, "pw", "1")
			tc.refuse(t, op, policy)
			cred, err := c.Get(ctx, op)
			if !errors.Is(err, tc.is) || errors.Is(err, ErrUnavailable) || cred.Password != "" {
				t.Fatalf("got %v, %v; want %v and no credential", cred, err, tc.is)
			}
			if rec.cached(op) || rec.errorCount(op, tc.reason) != 1 || len(c.Unavailable()) != 0 {
				t.Fatalf("from cache %v, errors %v, status %+v", rec.cached(op), rec.errors, c.Unavailable())
			}
			if !logs.Contains("cached credential dropped") {
				t.Fatalf("no log of the dropped credential:\n%s", logs)
			}
			p.set(proxyDown)
			if cred, err := c.Get(ctx, op); !errors.Is(err, ErrUnavailable) || cred.Password != "" {
				t.Fatalf("outage after %s: %v, %v", tc.name, cred, err)
			}
		})
	}
}

// With nothing cached an outage is an error; a caller giving up gets its
// error, not the cache.
func TestCachedNothingCachedAndCallerGivingUp(t *testing.T) {
	op := testenv.RandomName("mno")
	put(t, DefaultVaultPath(op), map[string]any{"system_id": "acme", "password": "pw"})
	c, p, rec, logs := newCached(t, nil, CacheOptions{})

	p.set(proxyDown)
	if _, err := c.Get(context.Background(), op); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("nothing cached: %v", err)
	}
	if rec.cached(op) || !logs.Contains("no credential cached") {
		t.Fatalf("from cache %v; logs:\n%s", rec.cached(op), logs)
	}
	p.set(proxyUp)
	mustGet(t, c, op, "pw", "1")

	p.set(proxyBlackhole)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := c.Get(ctx, op); errc <- err }()
	// Cancel once the read is in flight: the proxy holds its connection.
	testutil.WaitFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		p.mu.Lock()
		defer p.mu.Unlock()
		if len(p.conns) == 0 {
			return errors.New("no read in flight")
		}
		return nil
	})
	cancel()
	if err := <-errc; err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("caller gave up: %v", err)
	}
	if rec.cached(op) || len(c.Unavailable()) != 0 {
		t.Fatal("a caller giving up was taken for an outage")
	}
}

// While served from cache the credential is read again in the background:
// the state ends when Vault is back without a bind asking.
func TestCachedRecheckEndsTheOutage(t *testing.T) {
	op := testenv.RandomName("mno")
	put(t, DefaultVaultPath(op), map[string]any{"system_id": "acme", "password": "pw"})
	c, p, rec, _ := newCached(t, nil, CacheOptions{Recheck: 20 * time.Millisecond})
	mustGet(t, c, op, "pw", "1")
	p.set(proxyDown)
	mustGet(t, c, op, "pw", "1")
	// The rechecks fail meanwhile and are counted.
	testutil.WaitFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		if n := rec.errorCount(op, ReasonUnavailable); n < 3 {
			return fmt.Errorf("%d failed reads", n)
		}
		return nil
	})
	if !rec.cached(op) {
		t.Fatal("not from cache")
	}
	p.set(proxyUp)
	testutil.WaitFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		if rec.cached(op) || len(c.Unavailable()) != 0 {
			return errors.New("still from cache")
		}
		return nil
	})
}

// A Vault that takes the connection and never answers, for a caller whose
// own deadline is no longer than the cache's read timeout (a bind asks
// with its bind timeout, 5 s, the default Timeout too): the read gives up
// in time for the caller to get the cached credential.
func TestCachedBlackHoleWithinTheCallersDeadline(t *testing.T) {
	op := testenv.RandomName("mno")
	put(t, DefaultVaultPath(op), map[string]any{"system_id": "acme", "password": "pw"})
	c, p, rec, _ := newCached(t, nil, CacheOptions{Timeout: 5 * time.Second})
	mustGet(t, c, op, "pw", "1")
	p.set(proxyBlackhole)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	cred, err := c.Get(ctx, op)
	if err != nil || cred.Password != "pw" {
		t.Fatalf("black hole within the caller's deadline: %v, %v", cred, err)
	}
	if ctx.Err() != nil || !rec.cached(op) || rec.errorCount(op, ReasonTimeout) != 1 {
		t.Fatalf("caller's deadline passed %v, from cache %v, timeouts %d", ctx.Err(), rec.cached(op), rec.errorCount(op, ReasonTimeout))
	}
}

// A credential withdrawn while the binds stay up (no bind asks) is dropped
// by the background refresh, so that a rebind in a later outage cannot use
// it.
func TestCachedRefreshDropsAWithdrawnCredential(t *testing.T) {
	op := testenv.RandomName("mno")
	path := DefaultVaultPath(op)
	put(t, path, map[string]any{"system_id": "acme", "password": "pw"})
	c, p, rec, logs := newCached(t, nil, CacheOptions{Refresh: 20 * time.Millisecond})
	mustGet(t, c, op, "pw", "1")
	if err := env.VaultAdmin(t).KVv2(env.VaultKVMount).Delete(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	if err := logs.WaitFor("cached credential dropped", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	p.set(proxyDown)
	if cred, err := c.Get(context.Background(), op); !errors.Is(err, ErrUnavailable) || cred.Password != "" {
		t.Fatalf("outage after a withdrawal no bind saw: %v, %v", cred, err)
	}
	if rec.cached(op) {
		t.Fatal("served from cache")
	}
}

// A cached credential older than MaxStale is not served: an outage that
// long may be our own access revoked.
func TestCachedTooOldIsNotServed(t *testing.T) {
	op := testenv.RandomName("mno")
	put(t, DefaultVaultPath(op), map[string]any{"system_id": "acme", "password": "pw"})
	c, p, rec, logs := newCached(t, nil, CacheOptions{MaxStale: 5 * time.Second})
	mustGet(t, c, op, "pw", "1")
	p.set(proxyDown)
	mustGet(t, c, op, "pw", "1")        // young enough
	time.Sleep(5500 * time.Millisecond) // the credential ages past MaxStale (not an assertion)
	if cred, err := c.Get(context.Background(), op); !errors.Is(err, ErrUnavailable) || cred.Password != "" {
		t.Fatalf("too old: %v, %v", cred, err)
	}
	if rec.cached(op) || !logs.Contains("too old to use") {
		t.Fatalf("from cache %v; logs:\n%s", rec.cached(op), logs)
	}
}
