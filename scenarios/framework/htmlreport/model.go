// Package htmlreport renders the scenario suites' gate reports as one
// self-contained page, reports/index.html: for each suite, the criteria table
// (threshold, measured, pass or fail, and the trend against the suite's
// previous run) and the charts of what the suite recorded while it ran (TPS
// the simulated SMSC measured against the contract, submit and receipt
// latency histograms, outcome and receipt status breakdowns, faults on a
// timeline).
//
// The page loads nothing: no script, no stylesheet, no font, no image from
// anywhere. It is read by the people who sign a phase off, often as a CI
// artifact opened from disk, sometimes on a machine with no network; the
// charts are inline SVG drawn by the small helpers of svg.go and charts.go.
//
// This package knows nothing of Ginkgo: it reads the JSON files the framework
// writes (reports/<suite>.gates.json, <suite>.gates.prev.json and
// <suite>.run.json) so that `make report` can render the page again from
// whatever a run left behind.
package htmlreport

import (
	"math"
	"slices"
	"time"
)

// Run is what one suite run recorded for its charts: reports/<suite>.run.json.
type Run struct {
	Suite     string    `json:"suite"`
	StartTime time.Time `json:"startTime"`
	Items     []Item    `json:"items"`
}

// Item is one recorded chart input. Exactly one of TPS, Histogram,
// Breakdown and Fault is set. Spec names the spec that recorded it: the
// page groups a suite's charts by spec, so that a fault is drawn over the TPS
// of the run it disturbed and not over another spec's.
type Item struct {
	Spec      string     `json:"spec,omitempty"`
	TPS       *TPSSeries `json:"tps,omitempty"`
	Histogram *Histogram `json:"histogram,omitempty"`
	Breakdown *Breakdown `json:"breakdown,omitempty"`
	Fault     *FaultSpan `json:"fault,omitempty"`
}

// TPSSeries is the submit_sm arrivals one SMSC account counted in each
// wall-clock second, against the TPS the account is contracted at.
type TPSSeries struct {
	Title string `json:"title"`
	// Limit is the contracted TPS (0: none).
	Limit int `json:"limit,omitempty"`
	// Start is the first second of PerSecond (truncated to the second).
	Start     time.Time `json:"start"`
	PerSecond []int     `json:"perSecond"`
	// WorstSliding and Breaches are the simulator's own audit (sliding 1 s
	// windows, as the MNO counts): fixed seconds can hide a breach that
	// straddles two of them, so the chart's caption gives these too.
	WorstSliding int    `json:"worstSliding,omitempty"`
	Breaches     uint64 `json:"breaches,omitempty"`
	// Note says what the series may be missing (e.g. the recorder evicted
	// its earliest arrivals).
	Note string `json:"note,omitempty"`
}

// End is the end of the series' last second.
func (s TPSSeries) End() time.Time { return s.Start.Add(time.Duration(len(s.PerSecond)) * time.Second) }

// Histogram is a latency distribution in fixed buckets: Counts[i] counts
// values <= Bounds[i] (and above the bound before), the last count the values
// above the last bound.
type Histogram struct {
	Title  string    `json:"title"`
	Unit   string    `json:"unit"`
	Bounds []float64 `json:"bounds"`
	Counts []int     `json:"counts"`
	// Exact figures of the values (not of the buckets).
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// LatencyBoundsMs are the buckets of the latency histograms, in ms: the same
// for every run, so that two runs' charts compare at a glance.
var LatencyBoundsMs = []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000}

// NewHistogram buckets values (the order does not matter; NaN is skipped).
func NewHistogram(title, unit string, bounds, values []float64) Histogram {
	h := Histogram{Title: title, Unit: unit, Bounds: slices.Clone(bounds), Counts: make([]int, len(bounds)+1)}
	vs := make([]float64, 0, len(values))
	for _, v := range values {
		if !math.IsNaN(v) {
			vs = append(vs, v)
		}
	}
	slices.Sort(vs)
	for _, v := range vs {
		i, _ := slices.BinarySearch(h.Bounds, v) // first bound >= v
		h.Counts[i]++
	}
	h.N = len(vs)
	if h.N > 0 {
		h.P50, h.P99, h.Max = quantile(vs, 0.50), quantile(vs, 0.99), vs[h.N-1]
	}
	return h
}

// quantile of sorted values, nearest rank.
func quantile(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Breakdown is counts by label: submit outcomes, receipt states.
type Breakdown struct {
	Title  string  `json:"title"`
	Slices []Slice `json:"slices"`
}

// Slice is one label's count.
type Slice struct {
	Label string `json:"label"`
	Count int    `json:"count"`
}

// Total is the sum of the counts.
func (b Breakdown) Total() int {
	n := 0
	for _, s := range b.Slices {
		n += s.Count
	}
	return n
}

// FaultSpan is a fault that was in force from From to To (equal for one that
// acts at an instant, such as a kill -9).
type FaultSpan struct {
	Name   string    `json:"name"`
	Detail string    `json:"detail,omitempty"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
}

// NewTPSSeries counts arrivals (in any order) per wall-clock second, from
// the second of the first to that of the last, empty seconds included.
func NewTPSSeries(title string, limit int, arrivals []time.Time) TPSSeries {
	s := TPSSeries{Title: title, Limit: limit, PerSecond: []int{}}
	if len(arrivals) == 0 {
		return s
	}
	first, last := arrivals[0], arrivals[0]
	for _, t := range arrivals {
		if t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	s.Start = first.Truncate(time.Second)
	s.PerSecond = make([]int, int(last.Sub(s.Start)/time.Second)+1)
	for _, t := range arrivals {
		s.PerSecond[int(t.Sub(s.Start)/time.Second)]++
	}
	return s
}
