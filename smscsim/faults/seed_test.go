package faults

import (
	"fmt"
	"slices"
	"testing"

	"github.com/linxGnu/gosmpp/data"
)

// decisions records what a mix of random faults decides for the same traffic.
func decisions(t *testing.T, seed uint64) []string {
	t.Helper()
	r := NewRegistry(seed, nil)
	add(t, r, Spec{Name: "fail", Type: "error", Probability: 0.3, Params: []byte(`{"status":"ESME_RSYSERR"}`)})
	add(t, r, spec("latency", `{"distribution":{"kind":"normal","mean":"100ms","stddev":"30ms"}}`))
	add(t, r, spec("receipt_outcomes", `{"weights":{"DELIVRD":50,"UNDELIV":25,"EXPIRED":25}}`))
	add(t, r, spec("receipt_delay", `{"distribution":{"kind":"uniform","min":"0s","max":"10s"}}`))
	add(t, r, Spec{Name: "garbage", Type: "malformed", Probability: 0.1, Params: []byte(`{"kind":"garbage"}`)})
	var out []string
	for i := range 200 {
		act := request(r, Event{Command: data.SUBMIT_SM, Sequence: int32(i)})
		rc := receipt(r, ReceiptEvent{MessageID: fmt.Sprint(i)})
		out = append(out, fmt.Sprintf("%s %s %x | %s %s %s", outcome(act), act.Delay, act.Raw, rc.Stat, rc.Err, rc.Delay))
	}
	return out
}

func TestSameSeedSameDecisions(t *testing.T) {
	a, b := decisions(t, 1234), decisions(t, 1234)
	if !slices.Equal(a, b) {
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("seed 1234 diverged at %d: %q vs %q", i, a[i], b[i])
			}
		}
	}
	if c := decisions(t, 1235); slices.Equal(a, c) {
		t.Fatal("a different seed gave the same decisions: randomness is not seeded per registry")
	}
}
