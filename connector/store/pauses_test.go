package store_test

import (
	"testing"

	"github.com/smpp-connector/smpp-connector/connector/store"
)

// A pause is kept until resumed; paused again, the reason and who change.
func TestOperatorPauses(t *testing.T) {
	s, _ := open(t, store.Options{})
	ctx := ctxT(t)
	if err := s.PauseOperator(ctx, "mno-a", "MNO maintenance 02:00-04:00", "ctl alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.PauseOperator(ctx, "mno-b", "", "ctl bob"); err != nil {
		t.Fatal(err)
	}
	ps := must[map[string]store.Pause](t)(s.Pauses(ctx))
	if len(ps) != 2 || ps["mno-a"].Reason != "MNO maintenance 02:00-04:00" || ps["mno-a"].By != "ctl alice" || ps["mno-a"].Since.IsZero() {
		t.Fatalf("pauses %+v", ps)
	}
	since := ps["mno-a"].Since
	if err := s.PauseOperator(ctx, "mno-a", "extended", "ctl carol"); err != nil {
		t.Fatal(err)
	}
	ps = must[map[string]store.Pause](t)(s.Pauses(ctx))
	if p := ps["mno-a"]; p.Reason != "extended" || p.By != "ctl carol" || !p.Since.Equal(since) {
		t.Fatalf("paused again: %+v, want the new reason and who, the time kept (%v)", p, since)
	}
	if was := must[bool](t)(s.ResumeOperator(ctx, "mno-a")); !was {
		t.Fatal("resume of a paused operator says it was not paused")
	}
	if was := must[bool](t)(s.ResumeOperator(ctx, "mno-a")); was {
		t.Fatal("resumed twice: the second says it was paused")
	}
	if ps := must[map[string]store.Pause](t)(s.Pauses(ctx)); len(ps) != 1 || ps["mno-b"].By != "ctl bob" {
		t.Fatalf("after resuming mno-a: %+v", ps)
	}
}
