package faults

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

func TestRegistryAddRemoveReset(t *testing.T) {
	r := NewRegistry(1, newFakeEnv("a"))
	if _, err := r.Add(Spec{Type: "receipt_drop"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Add(Spec{Type: "receipt_drop"}); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := r.Add(Spec{Type: "nope"}); err == nil {
		t.Fatal("unknown type accepted")
	}
	if _, err := r.Add(Spec{Type: "receipt_drop", Name: "p", Probability: 1.5}); err == nil {
		t.Fatal("probability 1.5 accepted")
	}
	if _, err := r.Add(Spec{Type: "receipt_drop", Name: "c", Match: Match{Command: "submit_xx"}}); err == nil {
		t.Fatal("unknown command accepted")
	}
	if r.Empty() || len(r.List()) != 1 {
		t.Fatalf("list %v", r.List())
	}
	if err := r.Remove("ghost"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if err := r.Remove("receipt_drop"); err != nil || !r.Empty() {
		t.Fatal(err)
	}
}

// Running is true while the runner goes, false once it returned. In a
// synctest bubble (fake clock, synctest.Wait as the barrier that the runner
// is parked or gone) the 30ms outage is running at 29ms and over at 30ms.
func TestRunningReflectsRunnerLifetime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := NewRegistry(1, newFakeEnv("a"))
		out, err := r.Add(Spec{Type: "outage", Params: []byte(`{"duration":"30ms"}`)})
		if err != nil {
			t.Fatal(err)
		}
		drop, _ := r.Add(Spec{Type: "receipt_drop"})
		synctest.Wait()
		if !out.Running() || drop.Running() {
			t.Fatalf("running: outage %v receipt_drop %v", out.Running(), drop.Running())
		}
		time.Sleep(29 * time.Millisecond)
		synctest.Wait()
		if !out.Running() {
			t.Fatal("timed outage over before its duration")
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if out.Running() {
			t.Fatal("timed outage still running after its duration")
		}
		r.Reset()
	})
}
