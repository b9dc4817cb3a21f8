package faults

import (
	"slices"
	"testing"
	"time"
)

// A restart takes the listeners down and drops the sessions, restarts the
// numbering while nothing can submit (before the listeners reopen), and comes
// back after its duration.
func TestRestartReusesIDs(t *testing.T) {
	env := newFakeEnv("acme", "globex")
	r := NewRegistry(1, env)
	start := time.Now()
	in := add(t, r, Spec{Type: "restart", Params: []byte(`{"duration":"30ms","firstId":7}`), Match: Match{Operator: "acme"}})
	waitDone(t, in)
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Fatalf("restart lasted %s, want >= 30ms", d)
	}
	want := []string{"down acme", "disconnect op=acme account=", "ids from 7", "up acme"}
	if got := env.Calls(); !slices.Equal(got, want) {
		t.Fatalf("calls = %v, want %v", got, want)
	}
	if in.Hits() != 1 {
		t.Fatalf("hits = %d, want 1", in.Hits())
	}
}

// By default the numbering starts again at 1 and the listeners stay down a
// second; removing the fault early reopens them at once.
func TestRestartDefaults(t *testing.T) {
	env := newFakeEnv("acme")
	r := NewRegistry(1, env)
	add(t, r, spec("restart", `{}`))
	got := env.waitCalls(t, 3)
	if want := []string{"down acme", "disconnect op= account=", "ids from 1"}; !slices.Equal(got, want) {
		t.Fatalf("calls = %v, want %v", got, want)
	}
	if err := r.Remove("restart"); err != nil {
		t.Fatal(err)
	}
	if got := env.Calls(); got[len(got)-1] != "up acme" {
		t.Fatalf("calls after removal = %v", got)
	}
}
