package oms

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Each configuration taken is written to the cache file whole (a temporary
// file renamed over it), readable by the connector only.
func TestLastGoodIsKeptOnDisk(t *testing.T) {
	p := newPKI(t)
	body := operators("v1", 100, "mno-a")
	f := startOMS(t, p, body)
	o := p.options(f)
	c := newClient(t, o)
	if _, err := c.Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(o.CacheFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(o.CacheFile); string(b) != body {
		t.Errorf("cache holds %s", b)
	}
	if entries, _ := os.ReadDir(filepath.Dir(o.CacheFile)); len(entries) != 1 {
		t.Errorf("left beside it: %v", entries)
	}
}

// When the service cannot be reached at start, the last good configuration
// from disk is used, and the status says so until the service answers.
func TestUnreachableAtStartUsesLastGood(t *testing.T) {
	p := newPKI(t)
	f := startOMS(t, p, operators("v1", 100, "mno-a", "mno-b"))
	o := p.options(f)
	ctx := context.Background()
	if _, err := newClient(t, o).Load(ctx); err != nil {
		t.Fatal(err)
	}
	f.srv.Close()

	// A restart while the service is down.
	c := newClient(t, o)
	res, err := c.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !res.FromDisk || !res.Changed || res.Version != "v1" || len(res.File.Operators) != 2 {
		t.Fatalf("from disk: %+v", res)
	}
	st := c.Status()
	if st.Reachable || !st.FromDisk || st.Version != "v1" || st.LastErrorReason != ReasonUnreachable ||
		!strings.Contains(st.LastError, "cannot connect") || st.LastSuccess.IsZero() == false {
		t.Errorf("status: %+v", st)
	}
	if p := st.Problem(); !strings.Contains(p, "running version v1 from the last good file "+o.CacheFile) {
		t.Errorf("problem: %q", p)
	}

	// The service back with the same configuration: no change, no longer from disk.
	startOMSOn(t, p, operators("v1", 100, "mno-a", "mno-b"), f.srv.Listener.Addr().String())
	res, err = c.Fetch(ctx)
	if err != nil || res.Changed || res.FromDisk {
		t.Fatalf("back: %+v %v", res, err)
	}
	if st := c.Status(); st.FromDisk || !st.Reachable || st.Problem() != "" {
		t.Errorf("status once back: %+v", st)
	}
}

// Unreachable with nothing on disk, or with a cache that is not valid: the
// start fails naming both problems.
func TestUnreachableWithoutLastGoodFails(t *testing.T) {
	p := newPKI(t)
	f := startOMS(t, p, operators("v1", 100, "mno-a"))
	o := p.options(f)
	f.srv.Close()
	_, err := newClient(t, o).Load(context.Background())
	if err == nil || !strings.Contains(err.Error(), "cannot connect") || !strings.Contains(err.Error(), "no last good configuration in "+o.CacheFile) {
		t.Fatalf("nothing on disk: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(o.CacheFile), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, o.CacheFile, []byte(`{"operators": [{"id": "mno-a", "tps": 0}]}`))
	_, err = newClient(t, o).Load(context.Background())
	if err == nil || !strings.Contains(err.Error(), o.CacheFile) || !strings.Contains(err.Error(), `operator "mno-a": tps: must be > 0`) {
		t.Fatalf("invalid cache: %v", err)
	}
}

// Poll asks at every period and hands each new configuration over; it
// returns when its context ends.
func TestPollAppliesChanges(t *testing.T) {
	p := newPKI(t)
	f := startOMS(t, p, operators("v1", 100, "mno-a"))
	c := newClient(t, p.options(f))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Load(ctx); err != nil {
		t.Fatal(err)
	}
	applied := make(chan Result, 10)
	done := make(chan error, 1)
	go func() { done <- c.Poll(ctx, 20*time.Millisecond, func(r Result) { applied <- r }) }()
	f.set(operators("v2", 20, "mno-a"), `"2"`)
	select {
	case r := <-applied:
		if r.Version != "v2" || r.File.Operators[0].TPS != 20 {
			t.Fatalf("applied %+v", r)
		}
	case <-ctx.Done():
		t.Fatal("v2 never applied")
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Poll returned %v", err)
	}
	if len(applied) != 0 {
		t.Errorf("applied again without a change: %+v", <-applied)
	}
}
