package faults

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/linxGnu/gosmpp/data"
)

func TestDisconnectAfterPDUs(t *testing.T) {
	tests := []struct {
		params string
		n      uint64
		want   string
	}{
		{`{"afterPdus":3}`, 1, "ok"},
		{`{"afterPdus":3}`, 2, "ok"},
		{`{"afterPdus":3}`, 3, "drop+close"},
		{`{"afterPdus":3}`, 4, "drop+close"},
		{`{"afterPdus":3,"answerFirst":true}`, 3, "close"},
		{`{"afterPdus":1}`, 1, "drop+close"},
	}
	for _, tc := range tests {
		r := NewRegistry(1, nil)
		add(t, r, spec("disconnect", tc.params))
		if got := outcome(request(r, Event{Command: data.SUBMIT_SM, SessionRequests: tc.n})); got != tc.want {
			t.Errorf("%s at request %d: got %s, want %s", tc.params, tc.n, got, tc.want)
		}
	}
}

func TestDisconnectAt(t *testing.T) {
	env := newFakeEnv("acme")
	r := NewRegistry(1, env)
	in := add(t, r, Spec{Type: "disconnect", Params: []byte(`{"at":"20ms"}`), Match: Match{Operator: "acme", Account: "shop"}})
	if c := env.Calls(); len(c) != 0 {
		t.Fatalf("disconnected before the time: %v", c)
	}
	waitDone(t, in) // once, then the runner ends by itself
	if c := env.Calls(); !slices.Equal(c, []string{"disconnect op=acme account=shop"}) {
		t.Fatalf("calls = %v", c)
	}
	if in.Hits() != 1 {
		t.Fatalf("hits = %d", in.Hits())
	}
}

// Removing the fault before "at" cancels the disconnect: in a synctest bubble
// (fake clock) the hour passes and nothing happens.
func TestDisconnectAtRemovedEarly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newFakeEnv("acme")
		r := NewRegistry(1, env)
		in := add(t, r, spec("disconnect", `{"at":"1h"}`))
		synctest.Wait() // the runner is waiting for its time
		if err := r.Remove("disconnect"); err != nil {
			t.Fatal(err)
		}
		if stillRunning(in) {
			t.Fatal("Remove returned before the runner stopped")
		}
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		if c := env.Calls(); len(c) != 0 {
			t.Fatalf("calls = %v", c)
		}
	})
}

// every repeats on time until removed, and not once after. In a synctest
// bubble the clock is fake and synctest.Wait is the barrier: it returns once
// the runner is parked again, so the count is exact, and an hour after the
// removal is an hour the runner had to misbehave in.
func TestDisconnectEvery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newFakeEnv("acme")
		r := NewRegistry(1, env)
		in := add(t, r, spec("disconnect", `{"every":"5ms"}`))
		time.Sleep(17 * time.Millisecond)
		synctest.Wait()
		if n := len(env.Calls()); n != 3 || in.Hits() != 3 {
			t.Fatalf("after 17ms: %d disconnects, %d hits; want 3 (every 5ms)", n, in.Hits())
		}
		if !stillRunning(in) {
			t.Fatal("every must repeat until removed")
		}
		if err := r.Remove("disconnect"); err != nil {
			t.Fatal(err)
		}
		if stillRunning(in) {
			t.Fatal("Remove returned before the runner stopped")
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if n := len(env.Calls()); n != 3 {
			t.Fatalf("%d disconnects an hour after removal, want still 3", n)
		}
		for _, c := range env.Calls() {
			if c != "disconnect op= account=" {
				t.Fatalf("unexpected call %q", c)
			}
		}
	})
}
