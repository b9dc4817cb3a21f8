package store_test

import (
	"maps"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/store"
)

// A part handed back unsent is shown by the next PrepareParts and taken by
// exactly one delivery; a part with an outcome is never handed back; a part
// never handed back (left by a dead process) cannot be taken.
func TestHandBackAndTakeBack(t *testing.T) {
	s, _ := open(t, store.Options{})
	ctx := ctxT(t)
	prepare(t, s, "op", "m-1", 3)
	if _, err := s.RecordOutcome(ctx, store.Outcome{OperatorID: "op", MessageID: "m-1", Part: 1, Kind: store.Accepted,
		SMSCMessageID: "x1", SubmittedAt: time.Now(), At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if taken := must[map[int]bool](t)(s.TakeBack(ctx, "op", "m-1", []int{2, 3})); len(taken) != 0 {
		t.Fatalf("took %v before anything was handed back", taken)
	}
	if err := s.HandBack(ctx, "op", "m-1", []int{1, 2}); err != nil {
		t.Fatal(err)
	}
	again := prepare(t, s, "op", "m-1", 3)
	if again[0].HandedBack || !again[1].HandedBack || again[2].HandedBack || again[1].Created {
		t.Fatalf("after handing back parts 1 (accepted) and 2: %+v", again)
	}
	if taken := must[map[int]bool](t)(s.TakeBack(ctx, "op", "m-1", []int{1, 2, 3})); !maps.Equal(taken, map[int]bool{2: true}) {
		t.Fatalf("took %v, want part 2", taken)
	}
	if taken := must[map[int]bool](t)(s.TakeBack(ctx, "op", "m-1", []int{2})); len(taken) != 0 {
		t.Fatalf("part 2 taken twice (%v)", taken)
	}
	if st := prepare(t, s, "op", "m-1", 3); st[1].HandedBack {
		t.Fatalf("a taken part still shows handed back: %+v", st[1])
	}
}
