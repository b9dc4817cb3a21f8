package faults

import (
	"encoding/json"
	"testing"
	"time"
)

// testInstance is an instance with a seeded source, for sampling directly.
func testInstance(t *testing.T, seed uint64) *Instance {
	t.Helper()
	return add(t, NewRegistry(seed, nil), spec("blackhole", `{}`))
}

func parseDist(t *testing.T, s string) Distribution {
	t.Helper()
	var d Distribution
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		t.Fatal(err)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDistributionSample(t *testing.T) {
	tests := []struct {
		dist          string
		min, max      time.Duration
		meanLo, meanH time.Duration
	}{
		{`{"kind":"fixed","value":"200ms"}`, 200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond},
		{`{"kind":"fixed","value":0}`, 0, 0, 0, 0},
		{`{"kind":"uniform","min":"10ms","max":"50ms"}`, 10 * time.Millisecond, 50 * time.Millisecond, 28 * time.Millisecond, 32 * time.Millisecond},
		{`{"kind":"uniform","max":"1s"}`, 0, time.Second, 450 * time.Millisecond, 550 * time.Millisecond},
		{`{"kind":"normal","mean":"100ms","stddev":"20ms","min":"0s","max":"1s"}`, 0, time.Second, 97 * time.Millisecond, 103 * time.Millisecond},
		// a stddev larger than the mean would go negative: clamped at 0 (the default min)
		{`{"kind":"normal","mean":"10ms","stddev":"1s"}`, 0, 10 * time.Second, 0, time.Second},
		{`{"kind":"normal","mean":"100ms","stddev":"50ms","min":"90ms","max":"110ms"}`, 90 * time.Millisecond, 110 * time.Millisecond, 95 * time.Millisecond, 105 * time.Millisecond},
	}
	for _, tc := range tests {
		d := parseDist(t, tc.dist)
		in := testInstance(t, 42)
		var sum time.Duration
		const n = 4000
		for range n {
			v := d.Sample(in)
			if v < tc.min || v > tc.max {
				t.Fatalf("%s: sample %s outside [%s,%s]", tc.dist, v, tc.min, tc.max)
			}
			sum += v
		}
		if mean := sum / n; mean < tc.meanLo || mean > tc.meanH {
			t.Errorf("%s: mean %s outside [%s,%s]", tc.dist, mean, tc.meanLo, tc.meanH)
		}
	}
}

// A wide normal distribution with min 0 is never negative.
func TestDistributionNeverNegative(t *testing.T) {
	d := parseDist(t, `{"kind":"normal","mean":"1ms","stddev":"1h"}`)
	in := testInstance(t, 1)
	zeros := 0
	for range 1000 {
		v := d.Sample(in)
		if v < 0 {
			t.Fatalf("negative sample %s", v)
		}
		if v == 0 {
			zeros++
		}
	}
	if zeros < 400 {
		t.Fatalf("only %d of 1000 clamped to 0; clamping is not happening", zeros)
	}
}

// The JSON form round-trips, so listings show what the user gave.
func TestDistributionJSON(t *testing.T) {
	const in = `{"kind":"normal","min":"0s","max":"1s","mean":"100ms","stddev":"20ms"}`
	d := parseDist(t, in)
	out, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Fatalf("got %s, want %s", out, in)
	}
}
