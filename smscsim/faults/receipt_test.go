package faults

import (
	"testing"
	"time"
)

func TestReceiptDelay(t *testing.T) {
	r := NewRegistry(1, nil)
	add(t, r, spec("receipt_delay", `{"distribution":{"kind":"uniform","min":"1s","max":"2s"}}`))
	for range 100 {
		act := receipt(r, ReceiptEvent{MessageID: "m"})
		if act.Delay < time.Second || act.Delay > 2*time.Second {
			t.Fatalf("delay %s outside [1s,2s]", act.Delay)
		}
		if act.Drop || act.Copies != 1 || act.Stat != "DELIVRD" || act.Early {
			t.Fatalf("receipt_delay changed more than the delay: %+v", act)
		}
	}
}

func TestReceiptSimpleFaults(t *testing.T) {
	tests := []struct {
		typ, params string
		check       func(ReceiptAction) bool
	}{
		{"receipt_drop", `{}`, func(a ReceiptAction) bool { return a.Drop }},
		{"receipt_duplicate", `{}`, func(a ReceiptAction) bool { return a.Copies == 2 }},
		{"receipt_duplicate", `{"copies":5}`, func(a ReceiptAction) bool { return a.Copies == 5 }},
		{"receipt_early", `{}`, func(a ReceiptAction) bool { return a.Early }},
	}
	for _, tc := range tests {
		r := NewRegistry(1, nil)
		in := add(t, r, spec(tc.typ, tc.params))
		act := receipt(r, ReceiptEvent{Account: "shop", MessageID: "m"})
		if !tc.check(act) {
			t.Errorf("%s %s: %+v", tc.typ, tc.params, act)
		}
		if len(act.By) != 1 || act.By[0] != tc.typ || in.Hits() != 1 {
			t.Errorf("%s: By=%v hits=%d", tc.typ, act.By, in.Hits())
		}
	}
}

// Receipt faults honour the match: account and destination prefix.
func TestReceiptMatch(t *testing.T) {
	r := NewRegistry(1, nil)
	add(t, r, Spec{Type: "receipt_drop", Match: Match{Account: "shop", DestinationPrefix: "4477"}})
	tests := []struct {
		ev   ReceiptEvent
		drop bool
	}{
		{ReceiptEvent{Account: "shop", Dest: "447700900123"}, true},
		{ReceiptEvent{Account: "shop", Dest: "33612345678"}, false},
		{ReceiptEvent{Account: "bank", Dest: "447700900123"}, false},
	}
	for _, tc := range tests {
		if got := receipt(r, tc.ev).Drop; got != tc.drop {
			t.Errorf("%+v: drop %v, want %v", tc.ev, got, tc.drop)
		}
	}
}

// A probability turns receipt_drop into a drop rate.
func TestReceiptDropRate(t *testing.T) {
	r := NewRegistry(5, nil)
	add(t, r, Spec{Type: "receipt_drop", Probability: 0.1})
	dropped := 0
	for range 10000 {
		if receipt(r, ReceiptEvent{}).Drop {
			dropped++
		}
	}
	if dropped < 850 || dropped > 1150 {
		t.Fatalf("dropped %d of 10000, want about 1000", dropped)
	}
}

func TestReceiptOutcomes(t *testing.T) {
	r := NewRegistry(11, nil)
	add(t, r, spec("receipt_outcomes", `{"weights":{"DELIVRD":70,"UNDELIV":20,"EXPIRED":10,"REJECTD":0},"errorCodes":{"UNDELIV":"069"}}`))
	const n = 20000
	got := map[string]int{}
	errs := map[string]string{}
	for range n {
		act := receipt(r, ReceiptEvent{})
		got[act.Stat]++
		if prev, ok := errs[act.Stat]; ok && prev != act.Err {
			t.Fatalf("%s has err %s and %s", act.Stat, prev, act.Err)
		}
		errs[act.Stat] = act.Err
	}
	for stat, want := range map[string]float64{"DELIVRD": 0.7, "UNDELIV": 0.2, "EXPIRED": 0.1} {
		if share := float64(got[stat]) / n; share < want-0.02 || share > want+0.02 {
			t.Errorf("%s: share %.3f, want %.2f", stat, share, want)
		}
	}
	if got["REJECTD"] != 0 || len(got) != 3 {
		t.Errorf("unexpected outcomes %v", got)
	}
	wantErr := map[string]string{"DELIVRD": "000", "UNDELIV": "069", "EXPIRED": "003"}
	for stat, e := range wantErr {
		if errs[stat] != e {
			t.Errorf("%s: err %q, want %q", stat, errs[stat], e)
		}
	}
}
