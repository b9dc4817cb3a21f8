package meter

import (
	"encoding/json"
	"testing"
	"time"
)

// Quantiles are the recorded values themselves (nearest rank), not bucket
// bounds: 1..100 ms gives p50 = 50 ms and p99 = 99 ms exactly.
func TestLatencyQuantilesAreExactNearestRank(t *testing.T) {
	l := NewLatency(1000)
	for i := 100; i >= 1; i-- { // out of order: the summary sorts
		l.Add(time.Duration(i) * time.Millisecond)
	}
	s := l.Summary()
	if s.Count != 100 || s.Samples != 100 || s.P50 != 50*time.Millisecond || s.P99 != 99*time.Millisecond || s.Max != 100*time.Millisecond {
		t.Fatalf("%+v", s)
	}
}

// Past its capacity it keeps the latest values only: memory stays bounded in
// a simulator that runs for days, and the count still says how many there were.
func TestLatencyKeepsTheLatestWithinCapacity(t *testing.T) {
	l := NewLatency(10)
	for i := 1; i <= 25; i++ {
		l.Add(time.Duration(i) * time.Second)
	}
	s := l.Summary()
	if s.Count != 25 || s.Samples != 10 || s.P50 != 20*time.Second || s.Max != 25*time.Second {
		t.Fatalf("%+v", s)
	}
	l.Reset()
	if s := l.Summary(); s != (LatencySummary{}) {
		t.Fatalf("after reset: %+v", s)
	}
}

func TestLatencySummaryJSONInMilliseconds(t *testing.T) {
	l := NewLatency(4)
	l.Add(1500 * time.Microsecond)
	b, err := json.Marshal(l.Summary())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"count":1,"samples":1,"p50Ms":1.5,"p99Ms":1.5,"maxMs":1.5}`; got != want {
		t.Fatalf("%s, want %s", got, want)
	}
}
