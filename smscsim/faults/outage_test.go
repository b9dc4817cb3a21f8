package faults

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

func TestOutageForDuration(t *testing.T) {
	env := newFakeEnv("acme", "globex")
	r := NewRegistry(1, env)
	start := time.Now()
	in := add(t, r, Spec{Type: "outage", Params: []byte(`{"duration":"30ms"}`), Match: Match{Operator: "acme"}})
	waitDone(t, in) // comes back by itself
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Fatalf("outage lasted %s, want >= 30ms", d)
	}
	want := []string{"down acme", "disconnect op=acme account=", "up acme"}
	if got := env.Calls(); !slices.Equal(got, want) {
		t.Fatalf("calls = %v, want %v", got, want)
	}
}

// An outage without duration lasts until removed: in a synctest bubble a day
// of fake time passes (synctest.Wait is the barrier that the runner is parked,
// not gone) and the listeners are still down.
func TestOutageUntilRemoved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newFakeEnv("acme", "globex")
		r := NewRegistry(1, env)
		in := add(t, r, spec("outage", `{}`))
		synctest.Wait()
		want := []string{"down acme", "down globex", "disconnect op= account="}
		if got := env.Calls(); !slices.Equal(got, want) {
			t.Fatalf("calls = %v, want %v", got, want)
		}
		time.Sleep(24 * time.Hour)
		synctest.Wait()
		if !stillRunning(in) {
			t.Fatal("an outage without duration must last until removed")
		}
		if got := env.Calls(); !slices.Equal(got, want) {
			t.Fatalf("a day later: calls = %v, want %v", got, want)
		}
		if err := r.Remove("outage"); err != nil {
			t.Fatal(err)
		}
		want = append(want, "up acme", "up globex")
		if got := env.Calls(); !slices.Equal(got, want) {
			t.Fatalf("after removal: %v, want %v", got, want)
		}
	})
}

// Removing a timed outage early brings the listeners back at once.
func TestOutageRemovedEarly(t *testing.T) {
	env := newFakeEnv("acme")
	r := NewRegistry(1, env)
	add(t, r, spec("outage", `{"duration":"1h"}`))
	env.waitCalls(t, 2)
	if err := r.Remove("outage"); err != nil {
		t.Fatal(err)
	}
	if got := env.Calls(); got[len(got)-1] != "up acme" {
		t.Fatalf("calls = %v", got)
	}
}
