package meter

import (
	"encoding/json"
	"math"
	"slices"
	"sync"
	"time"
)

// Latency records durations of one kind (deliver_sm to deliver_sm_resp) and
// gives exact quantiles of the latest ones: it keeps up to its capacity of
// values in a ring, so a benchmark's run is measured value by value while a
// simulator that runs for days still holds a bounded window. Safe for
// concurrent use.
type Latency struct {
	mu    sync.Mutex
	ring  []time.Duration
	next  int
	count uint64
}

// NewLatency returns a recorder keeping the latest capacity values.
func NewLatency(capacity int) *Latency {
	return &Latency{ring: make([]time.Duration, 0, max(capacity, 1))}
}

// Add records one duration.
func (l *Latency) Add(d time.Duration) {
	l.mu.Lock()
	if len(l.ring) < cap(l.ring) {
		l.ring = append(l.ring, d)
	} else {
		l.ring[l.next] = d
		l.next = (l.next + 1) % len(l.ring)
	}
	l.count++
	l.mu.Unlock()
}

// Reset forgets every value.
func (l *Latency) Reset() {
	l.mu.Lock()
	l.ring, l.next, l.count = l.ring[:0], 0, 0
	l.mu.Unlock()
}

// LatencySummary is the quantiles of the values a Latency holds.
type LatencySummary struct {
	Count   uint64 // values recorded since the start or the last reset
	Samples int    // the latest values the quantiles are of (Count, up to the capacity)
	P50     time.Duration
	P99     time.Duration
	Max     time.Duration
}

// Summary returns the quantiles (nearest rank) of the values held.
func (l *Latency) Summary() LatencySummary {
	l.mu.Lock()
	vs := slices.Clone(l.ring)
	n := l.count
	l.mu.Unlock()
	if len(vs) == 0 {
		return LatencySummary{}
	}
	slices.Sort(vs)
	return LatencySummary{Count: n, Samples: len(vs), P50: NearestRank(vs, 0.50), P99: NearestRank(vs, 0.99), Max: vs[len(vs)-1]}
}

// NearestRank is the q quantile (0 < q <= 1) of sorted values: the smallest
// value with at least q of them at or below it.
func NearestRank[T any](sorted []T, q float64) T {
	// The tolerance keeps 0.99*100 (99.00000000000001 in floating point) at rank 99.
	i := int(math.Ceil(q*float64(len(sorted))-1e-9)) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// MarshalJSON gives the durations in milliseconds, as the control API's
// other figures.
func (s LatencySummary) MarshalJSON() ([]byte, error) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return json.Marshal(struct {
		Count   uint64  `json:"count"`
		Samples int     `json:"samples"`
		P50     float64 `json:"p50Ms"`
		P99     float64 `json:"p99Ms"`
		Max     float64 `json:"maxMs"`
	}{s.Count, s.Samples, ms(s.P50), ms(s.P99), ms(s.Max)})
}
