package faults

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

func TestMOCount(t *testing.T) {
	env := newFakeEnv("acme", "globex")
	r := NewRegistry(1, env)
	in := add(t, r, Spec{Type: "mo", Match: Match{Operator: "globex", Account: "shop"},
		Params: []byte(`{"rate":200,"count":4,"text":"STOP","encoding":"ucs2","segmentation":"sar"}`)})
	waitDone(t, in)
	if got := env.Calls(); !slices.Equal(got, []string{"mo globex", "mo globex", "mo globex", "mo globex"}) {
		t.Fatalf("calls = %v", got)
	}
	want := MO{Account: "shop", Source: defaultMOSource, Dest: defaultMODest, Text: "STOP", Encoding: "ucs2", Segmentation: "sar"}
	if env.mos[0] != want {
		t.Fatalf("mo = %+v, want %+v", env.mos[0], want)
	}
	m := in.Fault.(*MOFault)
	if m.Sent() != 4 || m.Errors() != 0 || in.Hits() != 4 {
		t.Fatalf("sent %d errors %d hits %d", m.Sent(), m.Errors(), in.Hits())
	}
}

// The rate is honoured: 5 messages at 100/s take about 40 ms (first one at once).
func TestMORate(t *testing.T) {
	env := newFakeEnv("acme")
	r := NewRegistry(1, env)
	start := time.Now()
	in := add(t, r, spec("mo", `{"rate":100,"count":5}`))
	waitDone(t, in)
	if d := time.Since(start); d < 35*time.Millisecond {
		t.Fatalf("5 MOs at 100/s took %s", d)
	}
}

// Failures are counted and retried; they never stop the runner. count is
// about delivered MOs.
func TestMOErrorsDoNotStop(t *testing.T) {
	env := newFakeEnv("acme", "globex")
	env.moFail["acme"] = true
	r := NewRegistry(1, env)
	in := add(t, r, spec("mo", `{"rate":500,"count":3}`))
	waitDone(t, in)
	m := in.Fault.(*MOFault)
	if m.Sent() != 3 || m.Errors() != 3 {
		t.Fatalf("sent %d errors %d, want 3 and 3 (calls %v)", m.Sent(), m.Errors(), env.Calls())
	}
	if m.LastError() != "acme: no receiver bound" {
		t.Fatalf("last error %q", m.LastError())
	}
}

// Without count the runner goes on until removed: in a synctest bubble (fake
// clock, synctest.Wait as the barrier that the runner is parked) a second of
// rate 1000 is 1000 attempts, and it is still running.
func TestMOUntilRemoved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newFakeEnv("acme")
		env.moFail["acme"] = true // even if every injection fails
		r := NewRegistry(1, env)
		in := add(t, r, spec("mo", `{"rate":1000}`))
		time.Sleep(time.Second)
		synctest.Wait()
		if !stillRunning(in) {
			t.Fatal("stopped by itself")
		}
		if n := len(env.Calls()); n < 900 {
			t.Fatalf("%d attempts in a second at rate 1000", n)
		}
		if err := r.Remove("mo"); err != nil {
			t.Fatal(err)
		}
		if got, n := in.Fault.(*MOFault).Errors(), len(env.Calls()); got != uint64(n) {
			t.Fatalf("%d errors counted for %d failed injections", got, n)
		}
	})
}

// count is a total across operators: it stops in the middle of a tick.
func TestMOCountAcrossOperators(t *testing.T) {
	env := newFakeEnv("acme", "globex")
	r := NewRegistry(1, env)
	in := add(t, r, spec("mo", `{"rate":500,"count":3}`))
	waitDone(t, in)
	if got := env.Calls(); !slices.Equal(got, []string{"mo acme", "mo globex", "mo acme"}) {
		t.Fatalf("calls = %v", got)
	}
}
