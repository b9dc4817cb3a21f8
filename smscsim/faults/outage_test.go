package faults

import (
	"slices"
	"testing"
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

func TestOutageUntilRemoved(t *testing.T) {
	env := newFakeEnv("acme", "globex")
	r := NewRegistry(1, env)
	in := add(t, r, spec("outage", `{}`))
	env.waitCalls(t, 3)
	time.Sleep(10 * time.Millisecond)
	if !stillRunning(in) {
		t.Fatal("an outage without duration must last until removed")
	}
	want := []string{"down acme", "down globex", "disconnect op= account="}
	if got := env.Calls(); !slices.Equal(got, want) {
		t.Fatalf("calls = %v, want %v", got, want)
	}
	if err := r.Remove("outage"); err != nil {
		t.Fatal(err)
	}
	want = append(want, "up acme", "up globex")
	if got := env.Calls(); !slices.Equal(got, want) {
		t.Fatalf("after removal: %v, want %v", got, want)
	}
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
