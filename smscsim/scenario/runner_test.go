package scenario

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/server"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startSim(t *testing.T) *server.Sim {
	t.Helper()
	cfg := server.Config{Seed: 7, Operators: []server.OperatorConfig{{
		ID: "acme", Listen: "127.0.0.1:0",
		Accounts: []server.AccountConfig{{SystemID: "shop", Password: "pw"}},
	}}}
	sim, err := server.New(cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return sim
}

func mustParse(t *testing.T, s string) *Scenario {
	t.Helper()
	sc, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func faultNames(sim *server.Sim) string {
	var n []string
	for _, in := range sim.Faults.List() {
		n = append(n, in.Spec.Name)
	}
	return strings.Join(n, ",")
}

func TestRunnerTimeline(t *testing.T) {
	sim := startSim(t)
	// Written out of order: the runner plays them by offset.
	sc := mustParse(t, `
name: timeline
seed: 7
steps:
  - {at: 800ms, remove: first}
  - {at: 400ms, add: {name: second, type: receipt_drop}}
  - {at: 0s, add: {name: first, type: error, match: {operator: acme, command: submit_sm}, params: {status: ESME_RSYSERR}}}
  - {at: 400ms, mo: {operator: acme, source: "447700900001", destination: ACME, text: hello}}
  - {at: 1200ms, reset: true}
`)
	// The runner plays in a synctest bubble; the simulator (with its
	// listeners) stays outside it, only the runner's clock is fake.
	synctest.Test(t, func(t *testing.T) {
		r, err := Start(context.Background(), sim, sc, quiet())
		if err != nil {
			t.Fatal(err)
		}
		defer r.Stop()
		// Observe the simulator between the steps. The clock is the bubble's
		// (fake) one, and synctest.Wait is the barrier that the runner has done
		// every step due by now and is parked on its timer for the next: the
		// observation is exact however slow the machine.
		checks := []struct {
			at     time.Duration
			faults string
		}{{0, "first"}, {399 * time.Millisecond, "first"}, {400 * time.Millisecond, "first,second"}, {799 * time.Millisecond, "first,second"}, {800 * time.Millisecond, "second"}}
		start := r.Status().Started
		for _, c := range checks {
			time.Sleep(time.Until(start.Add(c.at)))
			synctest.Wait()
			if got := faultNames(sim); got != c.faults {
				t.Fatalf("at %s: faults %q, want %q", c.at, got, c.faults)
			}
		}
		if err := r.Wait(ctxTimeout(t, 5*time.Second)); err != nil {
			t.Fatal(err)
		}
		if got := faultNames(sim); got != "" {
			t.Fatalf("after reset: faults %q", got)
		}
		st := r.Status()
		if st.State != StateFinished || st.Done != 5 || st.Pending != 0 || st.Failed != 0 || st.Seed != 7 || st.Name != "timeline" {
			t.Fatalf("status: %+v", st)
		}
		wantOrder := []string{"add first", "add second", "mo acme", "remove first", "reset "}
		for i, s := range st.Steps {
			if got := s.Action + " " + s.Target; got != wantOrder[i] {
				t.Errorf("step %d: %q, want %q", i, got, wantOrder[i])
			}
			// On the fake clock a step runs exactly at its offset.
			if !s.Done || !s.Ran.Equal(st.Started.Add(s.At.D())) {
				t.Errorf("step %d ran at %s, not at its offset %s", i, s.Ran.Sub(st.Started), s.At)
			}
			if i > 0 && s.Ran.Before(st.Steps[i-1].Ran) {
				t.Errorf("step %d ran before step %d", i, i-1)
			}
		}
		if st.Steps[0].Index != 2 || st.Steps[0].Line != 7 {
			t.Errorf("first step reported as steps[%d] line %d, want steps[2] line 7", st.Steps[0].Index, st.Steps[0].Line)
		}
	})
}

func TestRunnerMOAndStepErrors(t *testing.T) {
	sim := startSim(t)
	sc := mustParse(t, `
steps:
  - {at: 0s, mo: {operator: acme, source: "1", destination: "2", text: hi}}
  - {at: 0s, remove: nothing-here}
`)
	r, err := Start(context.Background(), sim, sc, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Wait(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	st := r.Status()
	if st.Failed != 1 || !strings.Contains(st.Steps[1].Error, "fault not found") {
		t.Fatalf("status: %+v", st)
	}
	if n := sim.Stats().Sum("acme", "shop", "mo", "queued"); n != 1 {
		t.Fatalf("mo queued: %d", n)
	}
}

func TestRunnerStop(t *testing.T) {
	sim := startSim(t)
	sc := mustParse(t, "steps:\n  - {at: 0s, add: {type: receipt_drop}}\n  - {at: 1h, reset: true}\n")
	// In a synctest bubble (the simulator stays outside): synctest.Wait is
	// the barrier that the runner did the step due at 0s and is parked on
	// its timer for the one due in an hour.
	synctest.Test(t, func(t *testing.T) {
		r, err := Start(context.Background(), sim, sc, quiet())
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if st := r.Status(); st.Done != 1 || st.State != StateRunning {
			t.Fatalf("status before stop: %+v", st)
		}
		t0 := time.Now()
		r.Stop()
		if d := time.Since(t0); d != 0 {
			t.Fatalf("Stop took %s of the bubble's clock: it waited for the next step", d)
		}
		st := r.Status()
		if st.State != StateStopped || st.Done != 1 || st.Pending != 1 || st.Next == nil || st.Next.D() != time.Hour {
			t.Fatalf("status after stop: %+v", st)
		}
		if faultNames(sim) != "receipt_drop" {
			t.Fatalf("stop must not undo steps: %q", faultNames(sim))
		}
	})
}

func TestCheckSim(t *testing.T) {
	sim := startSim(t)
	for _, tc := range []struct{ in, want string }{
		{"steps:\n  - {at: 0s, reset: true}\n  - {at: 1s, mo: {operator: nope, source: '1', destination: '2'}}\n", `line 3: steps[1].mo.operator: unknown operator "nope"`},
		{"steps:\n  - {at: 1s, mo: {operator: acme, account: x, source: '1', destination: '2'}}\n", `steps[0].mo.account: operator "acme" has no account "x"`},
		{"steps:\n  - {at: 1s, add: {type: outage, match: {operator: acmee}}}\n", `steps[0].add.match.operator: unknown operator "acmee"`},
	} {
		_, err := Start(context.Background(), sim, mustParse(t, tc.in), quiet())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Start(%q): %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestScenarioSeedReseedsFaults(t *testing.T) {
	sim := startSim(t)
	r, err := Start(context.Background(), sim, mustParse(t, "seed: 8\nsteps:\n  - {at: 0s, reset: true}\n"), quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	if sim.Seed() != 8 || r.Status().Seed != 8 {
		t.Fatalf("seed %d / status %d, want 8", sim.Seed(), r.Status().Seed)
	}
}

func TestGoBuiltScenario(t *testing.T) {
	sim := startSim(t)
	sc := &Scenario{Steps: []Step{{At: Duration(50 * time.Millisecond), Reset: true}, {At: 0, Remove: "x"}}}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	r, err := Start(context.Background(), sim, sc, quiet())
	if err != nil {
		t.Fatal(err)
	}
	_ = r.Wait(ctxTimeout(t, 2*time.Second))
	st := r.Status()
	if st.Steps[0].Index != 1 || st.Steps[1].Index != 0 {
		t.Fatalf("indexes: %+v", st.Steps)
	}
	bad := &Scenario{Steps: []Step{{At: 0, Reset: true, Remove: "x"}}}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "steps[0]: want exactly one") {
		t.Fatalf("Validate: %v", err)
	}
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
