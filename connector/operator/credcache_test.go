package operator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/secrets"
	"github.com/smpp-connector/smpp-connector/internal/testutil"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
)

// stoppableVault is a TCP proxy on loopback in front of the test's real
// Vault: stop closes its port and every connection through it (Vault
// stopped, as the client sees it), start opens the same port again.
type stoppableVault struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
}

func newStoppableVault(t *testing.T) *stoppableVault {
	t.Helper()
	u, err := url.Parse(env.VaultAddr)
	if err != nil {
		t.Fatal(err)
	}
	p := &stoppableVault{t: t, target: u.Host, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.stop)
	return p
}

func (p *stoppableVault) serve(ln net.Listener) {
	p.ln = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				v, err := net.Dial("tcp", p.target)
				if err != nil {
					c.Close()
					return
				}
				p.mu.Lock()
				p.conns[c], p.conns[v] = struct{}{}, struct{}{}
				p.mu.Unlock()
				done := make(chan struct{}, 2)
				go func() { io.Copy(v, c); done <- struct{}{} }()
				go func() { io.Copy(c, v); done <- struct{}{} }()
				<-done
				c.Close()
				v.Close()
				p.mu.Lock()
				delete(p.conns, c)
				delete(p.conns, v)
				p.mu.Unlock()
			}()
		}
	}()
}

func (p *stoppableVault) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ln.Close()
	for c := range p.conns {
		c.Close()
	}
}

func (p *stoppableVault) start() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("listen again on %s: %v", p.addr, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.serve(ln)
}

// The "done when": Vault stopped while the SMSC drops the bind, the
// connector rebinds with the cached credential.
func TestRebindWithCachedCredentialWhileVaultIsDown(t *testing.T) {
	r := newRig(t, "transceiver", "")
	ctx := context.Background()
	path := "smpp/operators/credcache-" + fmt.Sprint(time.Now().UnixNano())
	admin, err := testenv.NewVaultClient(env.VaultAddr, env.VaultToken)
	if err != nil {
		t.Fatal(err)
	}
	kv := admin.KVv2(env.VaultKVMount)
	if _, err := kv.Put(ctx, path, map[string]any{"system_id": "acme", "password": "pw1"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kv.DeleteMetadata(context.Background(), path) })

	proxy := newStoppableVault(t)
	v, err := secrets.NewVault(ctx, secrets.VaultConfig{Address: "http://" + proxy.addr, Auth: secrets.TokenAuth{Token: env.VaultToken},
		KVMount: env.VaultKVMount, Paths: map[string]string{"mno-a": path}, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	var mu sync.Mutex
	fromCache := false
	cached := secrets.NewCached(v, secrets.CacheOptions{Logger: quiet(), Recheck: time.Hour,
		OnFromCache: func(_ string, on bool) { mu.Lock(); fromCache = on; mu.Unlock() },
		OnSourceError: func(_, reason string) {
			r.deps.Metrics.CredSourceErrors.WithLabelValues("mno-a", reason).Inc()
		}})
	t.Cleanup(cached.Close)
	r.deps.Secrets = cached
	r.cfg.CredentialPoll = time.Second

	rn, _ := r.run(t)
	testutil.WaitFor(t, 30*time.Second, 10*time.Millisecond, owning(rn))
	before := r.sim.Sessions()
	if len(before) == 0 {
		t.Fatal("no session at the simulator")
	}
	last := before[len(before)-1].ID

	proxy.stop()
	if n := r.sim.Disconnect(faults.Match{Operator: "mno-a"}); n == 0 {
		t.Fatal("the simulator dropped no session")
	}
	// Rebound: a session newer than the dropped ones, with the cached
	// credential (the account only takes acme/pw1), while Vault is down.
	testutil.WaitFor(t, 60*time.Second, 10*time.Millisecond, func() error {
		s := r.sim.Sessions()
		if len(s) == 0 || s[0].ID <= last {
			return fmt.Errorf("sessions %+v: not rebound", s)
		}
		if err := owning(rn)(); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if !fromCache {
			return errors.New("bound, but not from the cache")
		}
		return nil
	})
	if _, err := v.Get(ctx, "mno-a"); !errors.Is(err, secrets.ErrUnavailable) {
		t.Fatalf("Vault is not down for the client: %v", err)
	}
	proxy.start()
}
