package secrets

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/smpp-connector/smpp-connector/internal/testutil"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
)

// These tests run against a real Vault (see main_test.go). Each one works
// under its own random operator id, policy and token, and deletes what it
// wrote.

// put writes a version of a secret (path inside the KV mount) and deletes
// the secret, all versions, when the test ends.
func put(t *testing.T, path string, data map[string]any) {
	t.Helper()
	kv := env.VaultAdmin(t).KVv2(env.VaultKVMount)
	if _, err := kv.Put(context.Background(), path, data); err != nil {
		t.Fatalf("put %s: %v", path, err)
	}
	t.Cleanup(func() { kv.DeleteMetadata(context.Background(), path) })
}

// policyToken creates a policy and a token holding only it.
func policyToken(t *testing.T, rules string, opts ...func(*api.TokenCreateRequest)) string {
	t.Helper()
	c := env.VaultAdmin(t)
	name := testenv.RandomName("smpp-test")
	if err := c.Sys().PutPolicy(name, rules); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Sys().DeletePolicy(name) })
	req := &api.TokenCreateRequest{Policies: []string{name}, NoDefaultPolicy: false, TTL: "10m"}
	for _, o := range opts {
		o(req)
	}
	s, err := c.Auth().Token().Create(req)
	if err != nil {
		t.Fatal(err)
	}
	tok := s.Auth.ClientToken
	t.Cleanup(func() { c.Auth().Token().RevokeTree(tok) })
	return tok
}

// readPolicy allows reading the data and the metadata of paths under the
// KV mount.
func readPolicy(paths ...string) string {
	var b strings.Builder
	for _, p := range paths {
		fmt.Fprintf(&b, "path %q { capabilities = [\"read\"] }\n", env.VaultKVMount+"/data/"+p)
		fmt.Fprintf(&b, "path %q { capabilities = [\"read\"] }\n", env.VaultKVMount+"/metadata/"+p)
	}
	return b.String()
}

func newVault(t *testing.T, cfg VaultConfig) (*Vault, *testutil.LogBuffer) {
	t.Helper()
	logs := &testutil.LogBuffer{}
	if cfg.Address == "" && cfg.Client == nil {
		cfg.Address = env.VaultAddr
	}
	if cfg.KVMount == "" {
		cfg.KVMount = env.VaultKVMount
	}
	if cfg.Auth == nil {
		cfg.Auth = TokenAuth{Token: env.VaultToken}
	}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := NewVault(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return v, logs
}

// readCounter counts the requests for one operator's secret (its metadata
// or its data) that a Vault client sends: the real Vault answers them, the
// test only learns that the watch has polled.
type readCounter struct {
	base http.RoundTripper
	op   string
	n    atomic.Int64
}

func (r *readCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/"+r.op) {
		r.n.Add(1)
	}
	return r.base.RoundTrip(req)
}

// countingClient is a Vault client for the test's Vault whose reads of op's
// secret are counted.
func countingClient(t *testing.T, op string) (*api.Client, *readCounter) {
	t.Helper()
	conf := api.DefaultConfig()
	conf.Address = env.VaultAddr
	rc := &readCounter{base: conf.HttpClient.Transport, op: op}
	conf.HttpClient.Transport = rc
	c, err := api.NewClient(conf)
	if err != nil {
		t.Fatal(err)
	}
	return c, rc
}

// polled is the barrier before asserting that a watch sent nothing: it
// waits until the watch has read the secret at least four times since the
// call (a poll reads it once or twice, so at least two polls began after it,
// and the first finished, including any send: the watch sends and polls in
// one goroutine, on an unbuffered channel), failing at once on anything
// sent. A pause instead passes when the watch had merely not polled yet.
func polled(t *testing.T, ch <-chan Credential, rc *readCounter) {
	t.Helper()
	base := rc.n.Load()
	testutil.WaitFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		noneSent(t, ch)
		if n := rc.n.Load() - base; n < 4 {
			return fmt.Errorf("the watch read the secret %d times", n)
		}
		return nil
	})
}

func TestVaultGet(t *testing.T) {
	op := testenv.RandomName("mno")
	put(t, DefaultVaultPath(op), map[string]any{"system_id": "acme", "password": "s3cret", "system_type": "VMA"})
	custom := testenv.RandomName("mno")
	put(t, "smpp/custom/"+custom, map[string]any{"system_id": "other", "password": "pw"})

	v, _ := newVault(t, VaultConfig{Paths: map[string]string{custom: "smpp/custom/" + custom}})
	c, err := v.Get(context.Background(), op)
	if err != nil {
		t.Fatal(err)
	}
	if c.SystemID != "acme" || c.Password != "s3cret" || c.SystemType != "VMA" || c.Version != "1" {
		t.Fatalf("got %v (password %q)", c, c.Password)
	}
	// The version's metadata: its number and when it was written (Vault's
	// clock: the container shares this machine's).
	if c.Revision != 1 || time.Since(c.Created).Abs() > time.Minute {
		t.Fatalf("revision %d created %s, want 1 and about now", c.Revision, c.Created)
	}
	c, err = v.Get(context.Background(), custom)
	if err != nil || c.SystemID != "other" {
		t.Fatalf("custom path: %v %v", c, err)
	}
	if got := v.Path(op); got != env.VaultKVMount+"/smpp/operators/"+op {
		t.Errorf("Path = %s", got)
	}
}

func TestVaultErrorsNameOperatorPathAndKey(t *testing.T) {
	ctx := context.Background()
	v, _ := newVault(t, VaultConfig{})
	mount := env.VaultKVMount

	missing := testenv.RandomName("mno")
	_, err := v.Get(ctx, missing)
	want := fmt.Sprintf(`vault: operator %q: read %s/smpp/operators/%s: not found`, missing, mount, missing)
	if err == nil || err.Error() != want || !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing secret:\n got %v\nwant %s", err, want)
	}

	for _, tc := range []struct {
		data map[string]any
		want string
	}{
		{map[string]any{"password": "hunter2"}, "invalid credential: system_id: missing"},
		{map[string]any{"system_id": "acme"}, "invalid credential: password: missing"},
		{map[string]any{"system_id": "acme", "password": "hunter2hunter2"}, "invalid credential: password: longer than SMPP's 8 characters"},
		{map[string]any{"system_id": "acme-corporation-ltd", "password": "hunter2"}, "invalid credential: system_id: 20 characters, longer than SMPP's 15"},
		{map[string]any{"system_id": "acme", "password": 1234}, "invalid credential: password: want a string, got a number"},
	} {
		op := testenv.RandomName("mno")
		put(t, DefaultVaultPath(op), tc.data)
		_, err := v.Get(ctx, op)
		prefix := fmt.Sprintf(`vault: operator %q: read %s/smpp/operators/%s: `, op, mount, op)
		if err == nil || err.Error() != prefix+tc.want || !errors.Is(err, ErrInvalid) {
			t.Errorf("%v:\n got %v\nwant %s", tc.data, err, prefix+tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows the password: %v", err)
		}
	}

	// The latest version deleted (soft delete): not found, not "invalid".
	op := testenv.RandomName("mno")
	put(t, DefaultVaultPath(op), map[string]any{"system_id": "acme", "password": "x"})
	if err := env.VaultAdmin(t).KVv2(mount).Delete(ctx, DefaultVaultPath(op)); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Get(ctx, op); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted latest version: %v", err)
	}
}

func TestVaultPermissionDenied(t *testing.T) {
	ctx := context.Background()
	allowed, denied := testenv.RandomName("mno"), testenv.RandomName("mno")
	put(t, DefaultVaultPath(allowed), map[string]any{"system_id": "acme", "password": "s3cret"})
	put(t, DefaultVaultPath(denied), map[string]any{"system_id": "acme", "password": "hunter2"})
	tok := policyToken(t, readPolicy(DefaultVaultPath(allowed)))

	v, _ := newVault(t, VaultConfig{Auth: TokenAuth{Token: tok}})
	if c, err := v.Get(ctx, allowed); err != nil || c.Password != "s3cret" {
		t.Fatalf("allowed: %v %v", c, err)
	}
	_, err := v.Get(ctx, denied)
	want := fmt.Sprintf(`vault: operator %q: read %s/smpp/operators/%s: permission denied`, denied, env.VaultKVMount, denied)
	if err == nil || err.Error() != want || !errors.Is(err, ErrPermissionDenied) {
		t.Fatalf("denied:\n got %v\nwant %s", err, want)
	}

	// Probe tells what the policy allows without reading a secret: the
	// allowed path (there, and an absent one under it would be not found),
	// a path beside it refused.
	if err := v.Probe(ctx, DefaultVaultPath(allowed)); err != nil {
		t.Errorf("probe of the allowed path: %v", err)
	}
	if err := v.Probe(ctx, DefaultVaultPath(denied)); !errors.Is(err, ErrPermissionDenied) {
		t.Errorf("probe of a path the policy does not allow: %v, want permission denied", err)
	}
	root, _ := newVault(t, VaultConfig{})
	if err := root.Probe(ctx, "preflight/"+testenv.RandomName("absent")); !errors.Is(err, ErrNotFound) {
		t.Errorf("probe of an absent path with a token that may read it: %v, want not found", err)
	}

	// A bad token is refused at once, saying so.
	_, err = NewVault(ctx, VaultConfig{Address: env.VaultAddr, KVMount: env.VaultKVMount, Auth: TokenAuth{Token: "hvs.not-a-token"}})
	if err == nil || err.Error() != "vault: token auth: check token (auth/token/lookup-self): permission denied" {
		t.Fatalf("bad token: %v", err)
	}
	if strings.Contains(fmt.Sprint(err), "not-a-token") {
		t.Fatalf("error shows the token: %v", err)
	}
}

func TestVaultWatchRotation(t *testing.T) {
	op := testenv.RandomName("mno")
	path := DefaultVaultPath(op)
	put(t, path, map[string]any{"system_id": "acme", "password": "v1"})
	kv := env.VaultAdmin(t).KVv2(env.VaultKVMount)
	client, reads := countingClient(t, op)
	v, logs := newVault(t, VaultConfig{Client: client})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const every = 50 * time.Millisecond
	ch := v.Watch(ctx, op, every)
	c, err := v.Get(ctx, op)
	if err != nil || c.Version != "1" {
		t.Fatalf("%v %v", c, err)
	}
	polled(t, ch, reads) // the baseline is not sent

	if _, err := kv.Put(ctx, path, map[string]any{"system_id": "acme", "password": "v2"}); err != nil {
		t.Fatal(err)
	}
	c = next(t, ch, 5*time.Second)
	if c.Version != "2" || c.Password != "v2" || c.SystemID != "acme" {
		t.Fatalf("rotation: %v (password %q)", c, c.Password)
	}
	polled(t, ch, reads) // once

	// A broken new version is not sent, and is logged once without secrets.
	if _, err := kv.Put(ctx, path, map[string]any{"system_id": "acme", "password": "hunter2hunter2"}); err != nil {
		t.Fatal(err)
	}
	polled(t, ch, reads)
	if n := strings.Count(logs.String(), "password: longer than SMPP"); n != 1 {
		t.Errorf("broken version logged %d times:\n%s", n, logs.String())
	}
	if _, err := kv.Put(ctx, path, map[string]any{"system_id": "acme", "password": "v4"}); err != nil {
		t.Fatal(err)
	}
	if c := next(t, ch, 5*time.Second); c.Version != "4" || c.Password != "v4" {
		t.Fatalf("after the broken version: %v", c)
	}
	if strings.Contains(logs.String(), "hunter2") || strings.Contains(logs.String(), "=v4") {
		t.Errorf("logs show a password:\n%s", logs.String())
	}

	cancel()
	closed(t, ch)
}

// TestVaultWatchWithoutMetadataAccess: a policy that only allows reading the
// secret's data still lets Watch see rotations.
func TestVaultWatchWithoutMetadataAccess(t *testing.T) {
	op := testenv.RandomName("mno")
	path := DefaultVaultPath(op)
	put(t, path, map[string]any{"system_id": "acme", "password": "v1"})
	tok := policyToken(t, fmt.Sprintf("path %q { capabilities = [\"read\"] }\n", env.VaultKVMount+"/data/"+path))
	client, reads := countingClient(t, op)
	v, logs := newVault(t, VaultConfig{Client: client, Auth: TokenAuth{Token: tok}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := v.Watch(ctx, op, 50*time.Millisecond)
	polled(t, ch, reads)
	if _, err := env.VaultAdmin(t).KVv2(env.VaultKVMount).Put(ctx, path, map[string]any{"system_id": "acme", "password": "v2"}); err != nil {
		t.Fatal(err)
	}
	if c := next(t, ch, 5*time.Second); c.Version != "2" || c.Password != "v2" {
		t.Fatalf("got %v", c)
	}
	polled(t, ch, reads)
	if !strings.Contains(logs.String(), "metadata not readable, watching the secret itself") {
		t.Errorf("logs:\n%s", logs.String())
	}
}

// TestVaultWatchMissingThenCreated: a secret that does not exist yet is sent
// when it is created.
func TestVaultWatchMissingThenCreated(t *testing.T) {
	op := testenv.RandomName("mno")
	client, reads := countingClient(t, op)
	v, _ := newVault(t, VaultConfig{Client: client})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := v.Watch(ctx, op, 50*time.Millisecond)
	polled(t, ch, reads)
	put(t, DefaultVaultPath(op), map[string]any{"system_id": "acme", "password": "v1"})
	if c := next(t, ch, 5*time.Second); c.Version != "1" {
		t.Fatalf("got %v", c)
	}
}

// TestVaultTokenRenewal: a token with a short TTL stays usable because the
// source renews it.
func TestVaultTokenRenewal(t *testing.T) {
	op := testenv.RandomName("mno")
	put(t, DefaultVaultPath(op), map[string]any{"system_id": "acme", "password": "s3cret"})
	tok := policyToken(t, readPolicy(DefaultVaultPath(op)), func(r *api.TokenCreateRequest) {
		r.TTL = "2s"
		r.Renewable = ptr(true)
	})
	issued := time.Now()
	v, logs := newVault(t, VaultConfig{Auth: TokenAuth{Token: tok}})
	// Barrier: the renewal itself, then reads until well past the first TTL
	// (each must succeed), instead of one read after a fixed sleep.
	if err := logs.WaitFor("token renewed", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 15*time.Second, 200*time.Millisecond, func() error {
		if _, err := v.Get(context.Background(), op); err != nil {
			t.Fatalf("%s after the token was issued: %v\n%s", time.Since(issued), err, logs.String())
		}
		if since := time.Since(issued); since < 5*time.Second {
			return fmt.Errorf("only %s since the token was issued with a 2s TTL", since)
		}
		return nil
	})
}

// TestVaultTokenMaxTTLIsReported: a given token that reaches its max TTL
// cannot be replaced by the source; it says so before and after it expires.
func TestVaultTokenMaxTTLIsReported(t *testing.T) {
	tok := policyToken(t, readPolicy("smpp/operators/none"), func(r *api.TokenCreateRequest) {
		r.TTL, r.ExplicitMaxTTL = "2s", "3s"
		r.Renewable = ptr(true)
	})
	_, logs := newVault(t, VaultConfig{Auth: TokenAuth{Token: tok}})
	_ = logs.WaitFor("token has expired", 8*time.Second) // the checks below show the logs
	l := logs.String()
	if !strings.Contains(l, "the token reaches its max TTL and cannot be renewed further: give the service a new one") ||
		!strings.Contains(l, "vault: the token has expired: give the service a new one") {
		t.Fatalf("logs:\n%s", l)
	}
}

func ptr[T any](v T) *T { return &v }

// noneSent fails the test if the watch has sent something.
func noneSent(t *testing.T, ch <-chan Credential) {
	t.Helper()
	select {
	case c, ok := <-ch:
		if ok {
			t.Fatalf("unexpected credential: %v", c)
		}
		t.Fatal("watch channel closed")
	default:
	}
}
