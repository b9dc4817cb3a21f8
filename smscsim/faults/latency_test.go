package faults

import (
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
)

func TestLatency(t *testing.T) {
	tests := []struct {
		dist     string
		min, max time.Duration
	}{
		{`{"kind":"fixed","value":"200ms"}`, 200 * time.Millisecond, 200 * time.Millisecond},
		{`{"kind":"uniform","min":"10ms","max":"50ms"}`, 10 * time.Millisecond, 50 * time.Millisecond},
		{`{"kind":"normal","mean":"100ms","stddev":"20ms","min":"50ms","max":"150ms"}`, 50 * time.Millisecond, 150 * time.Millisecond},
	}
	for _, tc := range tests {
		r := NewRegistry(3, nil)
		add(t, r, spec("latency", `{"distribution":`+tc.dist+`}`))
		distinct := map[time.Duration]bool{}
		for range 200 {
			act := request(r, Event{Command: data.SUBMIT_SM})
			if act.Delay < tc.min || act.Delay > tc.max {
				t.Fatalf("%s: delay %s outside [%s,%s]", tc.dist, act.Delay, tc.min, tc.max)
			}
			if act.Rejected() {
				t.Fatalf("%s: latency must not change the answer: %+v", tc.dist, act)
			}
			distinct[act.Delay] = true
		}
		if tc.min != tc.max && len(distinct) < 50 {
			t.Errorf("%s: only %d distinct delays in 200", tc.dist, len(distinct))
		}
	}
}

// Two latency faults add up, and an earlier delay is kept.
func TestLatencyAdds(t *testing.T) {
	r := NewRegistry(1, nil)
	add(t, r, Spec{Name: "a", Type: "latency", Params: []byte(`{"distribution":{"kind":"fixed","value":"100ms"}}`)})
	add(t, r, Spec{Name: "b", Type: "latency", Params: []byte(`{"distribution":{"kind":"fixed","value":"1s"}}`)})
	act := Action{Delay: time.Millisecond}
	r.OnRequest(&Event{Command: data.SUBMIT_SM}, &act)
	if act.Delay != 1101*time.Millisecond {
		t.Fatalf("delay %s, want 1.101s", act.Delay)
	}
}
