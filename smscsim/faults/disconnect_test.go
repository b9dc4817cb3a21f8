package faults

import (
	"slices"
	"testing"
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

// Removing the fault before "at" cancels the disconnect.
func TestDisconnectAtRemovedEarly(t *testing.T) {
	env := newFakeEnv("acme")
	r := NewRegistry(1, env)
	add(t, r, spec("disconnect", `{"at":"1h"}`))
	if err := r.Remove("disconnect"); err != nil {
		t.Fatal(err)
	}
	if c := env.Calls(); len(c) != 0 {
		t.Fatalf("calls = %v", c)
	}
}

func TestDisconnectEvery(t *testing.T) {
	env := newFakeEnv("acme")
	r := NewRegistry(1, env)
	in := add(t, r, spec("disconnect", `{"every":"5ms"}`))
	env.waitCalls(t, 3)
	if !stillRunning(in) {
		t.Fatal("every must repeat until removed")
	}
	if err := r.Remove("disconnect"); err != nil {
		t.Fatal(err)
	}
	n := len(env.Calls())
	time.Sleep(20 * time.Millisecond)
	if len(env.Calls()) != n {
		t.Fatal("still disconnecting after removal")
	}
	for _, c := range env.Calls() {
		if c != "disconnect op= account=" {
			t.Fatalf("unexpected call %q", c)
		}
	}
}
