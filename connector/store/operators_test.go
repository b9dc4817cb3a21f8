package store_test

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/store"
)

// Replicas list the operators they have configured; an operator counts as
// configured somewhere while a replica listed it within the window, by the
// database's clock; the last replica to list it is named.
func TestConfiguredOperatorsSeenWithin(t *testing.T) {
	s, dsn := open(t, store.Options{})
	ctx := ctxT(t)
	if err := s.TouchOperators(ctx, "replica-1", []string{"mno-b", "mno-a", "mno-a"}); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchOperators(ctx, "replica-2", []string{"mno-c"}); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchOperators(ctx, "replica-2", nil); err != nil {
		t.Fatal(err)
	}
	seen := must[map[string]store.OperatorSighting](t)(s.OperatorsSeenWithin(ctx, time.Hour))
	if got := slices.Sorted(maps.Keys(seen)); !slices.Equal(got, []string{"mno-a", "mno-b", "mno-c"}) {
		t.Fatalf("seen %v, want mno-a, mno-b, mno-c", got)
	}
	if o := seen["mno-a"]; o.Replica != "replica-1" || o.Ago < 0 || o.Ago > time.Minute || o.LastSeen.IsZero() {
		t.Fatalf("mno-a: %+v", o)
	}
	// Only the ones asked for.
	one := must[map[string]store.OperatorSighting](t)(s.OperatorsSeenWithin(ctx, time.Hour, "mno-c", "mno-z"))
	if len(one) != 1 || one["mno-c"].Replica != "replica-2" {
		t.Fatalf("mno-c and mno-z: %+v", one)
	}

	// mno-b last listed two hours ago (by the database's clock): outside a
	// one-hour window, inside a three-hour one.
	c := connect(t, dsn)
	if _, err := c.Exec(ctx, `UPDATE smpp.configured_operators SET last_seen = now() - interval '2 hours' WHERE operator_id = 'mno-b'`); err != nil {
		t.Fatal(err)
	}
	seen = must[map[string]store.OperatorSighting](t)(s.OperatorsSeenWithin(ctx, time.Hour))
	if _, ok := seen["mno-b"]; ok || len(seen) != 2 {
		t.Fatalf("within an hour: %+v, want mno-a and mno-c", seen)
	}
	seen = must[map[string]store.OperatorSighting](t)(s.OperatorsSeenWithin(ctx, 3*time.Hour, "mno-b"))
	if o, ok := seen["mno-b"]; !ok || o.Ago < 2*time.Hour || o.Ago > 2*time.Hour+time.Minute {
		t.Fatalf("within three hours: %+v, want mno-b seen 2h ago", seen)
	}

	// Another replica lists it: seen now, by that replica.
	if err := s.TouchOperators(ctx, "replica-3", []string{"mno-b"}); err != nil {
		t.Fatal(err)
	}
	seen = must[map[string]store.OperatorSighting](t)(s.OperatorsSeenWithin(ctx, time.Hour, "mno-b"))
	if o := seen["mno-b"]; o.Replica != "replica-3" || o.Ago > time.Minute {
		t.Fatalf("mno-b after replica-3 listed it: %+v", seen)
	}
}

// Replicas listing the same operators at once, in any order, never
// deadlock.
func TestConfiguredOperatorsTouchedConcurrently(t *testing.T) {
	s, _ := open(t, store.Options{})
	ctx := ctxT(t)
	var ids []string
	for i := range 50 {
		ids = append(ids, fmt.Sprintf("mno-%02d", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*20)
	for r := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := slices.Clone(ids)
			if r%2 == 1 {
				slices.Reverse(mine)
			}
			for range 20 {
				errs <- s.TouchOperators(ctx, fmt.Sprintf("replica-%d", r), mine)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if seen := must[map[string]store.OperatorSighting](t)(s.OperatorsSeenWithin(ctx, time.Minute)); len(seen) != len(ids) {
		t.Fatalf("%d operators seen, want %d", len(seen), len(ids))
	}
}
