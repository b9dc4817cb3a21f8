package htmlreport

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

func TestNewHistogramBucketsByUpperBound(t *testing.T) {
	h := NewHistogram("x", "ms", []float64{1, 10, 100}, []float64{0.2, 1, 1.5, 10, 99, 100.5, 5000, nanValue()})
	if want := []int{2, 2, 1, 2}; !slices.Equal(h.Counts, want) {
		t.Errorf("counts %v, want %v (<=1, <=10, <=100, >100)", h.Counts, want)
	}
	if h.N != 7 || h.Max != 5000 || h.P50 != 10 || h.P99 != 5000 {
		t.Errorf("n %d p50 %v p99 %v max %v", h.N, h.P50, h.P99, h.Max)
	}
	if e := NewHistogram("empty", "ms", []float64{1}, nil); e.N != 0 || !slices.Equal(e.Counts, []int{0, 0}) {
		t.Errorf("empty histogram %+v", e)
	}
}

func nanValue() float64 { var z float64; return z / z }

func TestTrendFollowsTheThresholdsDirection(t *testing.T) {
	c := func(th string, v float64, pass bool) Criterion {
		return Criterion{Name: "c", Threshold: th, Measured: formatNumber(v), Value: &v, Pass: pass}
	}
	cond := func(m string, pass bool) Criterion {
		return Criterion{Name: "c", Threshold: "== true", Measured: m, Pass: pass}
	}
	cases := []struct {
		cur  Criterion
		prev *Criterion
		kind string
	}{
		{c(">= 99.5", 99.9, true), ptr(c(">= 99.5", 99.7, true)), "better"},
		{c(">= 99.5", 99.6, true), ptr(c(">= 99.5", 99.7, true)), "worse"},
		{c("<= 0 breaches", 2, false), ptr(c("<= 0 breaches", 0, true)), "worse"},
		{c("<= 30 s", 3, true), ptr(c("<= 30 s", 5, true)), "better"},
		{c("within ±0.5 pp", -0.1, true), ptr(c("within ±0.5 pp", 0.3, true)), "better"},
		{c("within ±0.5 pp", -0.4, true), ptr(c("within ±0.5 pp", 0.3, true)), "worse"},
		{c(">= 1", 1, true), ptr(c(">= 1", 1, true)), "same"},
		{c(">= 1", 1, true), nil, "new"},
		{c(">= 1", 1, true), &Criterion{Name: "c", Missing: true}, "new"},
		{cond("true", true), ptr(cond("false", false)), "better"},
		{cond("false", false), ptr(cond("true", true)), "worse"},
		{cond("true (3 ops)", true), ptr(cond("true (2 ops)", true)), "changed"},
		{cond("true", true), ptr(cond("true", true)), "same"},
	}
	for _, k := range cases {
		if got := TrendOf(k.cur, k.prev); got.Kind != k.kind {
			t.Errorf("%s %s vs %+v: %s (%s), want %s", k.cur.Threshold, k.cur.Measured, k.prev, got.Kind, got.Text, k.kind)
		}
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWriteRendersEverySuiteOfTheDirectory(t *testing.T) {
	dir := t.TempDir()
	f := fixture()
	writeJSON(t, filepath.Join(dir, "phase2"+SummarySuffix), f.Summary)
	writeJSON(t, filepath.Join(dir, "phase2"+PreviousSuffix), f.Previous)
	writeJSON(t, filepath.Join(dir, "phase2"+RunSuffix), f.Run)
	writeJSON(t, filepath.Join(dir, "faults"+RunSuffix), Run{Suite: "faults", Items: f.Run.Items[:1]})
	// Files that are not reports are left alone.
	if err := os.WriteFile(filepath.Join(dir, "phase2.junit.xml"), []byte("<x/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	suites, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(suites) != 2 || suites[0].Name != "faults" || suites[1].Name != "phase2" {
		t.Fatalf("suites %+v", suites)
	}
	if p := suites[1]; p.Summary == nil || p.Previous == nil || p.Run == nil || len(p.Run.Items) != 7 {
		t.Fatalf("phase2 not read whole: %+v", p)
	}
	if err := Write(dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(find(doc, func(n *html.Node) bool { return n.Data == "section" && hasClass(n, "suite") })); n != 2 {
		t.Errorf("index.html has %d suite sections, want 2", n)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".index-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// A broken file is named, and the rest is still rendered.
	if err := os.WriteFile(filepath.Join(dir, "phase3"+SummarySuffix), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = Write(dir, time.Now())
	if err == nil || !strings.Contains(err.Error(), "phase3.gates.json") {
		t.Errorf("a broken summary: error %v, want one naming it", err)
	}
	if b2, _ := os.ReadFile(filepath.Join(dir, IndexFile)); !strings.Contains(string(b2), "phase2") {
		t.Error("a broken file of one suite lost the others' page")
	}
}

func TestNewTPSSeriesCountsArrivalsPerWallClockSecond(t *testing.T) {
	base := time.Date(2026, 11, 20, 10, 0, 5, 0, time.UTC)
	at := func(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	// Out of order, with an empty second (+2) in the middle.
	s := NewTPSSeries("acme", 2, []time.Time{at(1500), at(100), at(999), at(3100), at(1000), at(1001)})
	if !s.Start.Equal(base) {
		t.Errorf("start %v, want the first arrival's second %v", s.Start, base)
	}
	if want := []int{2, 3, 0, 1}; !slices.Equal(s.PerSecond, want) {
		t.Errorf("per second %v, want %v", s.PerSecond, want)
	}
	if s.Limit != 2 || s.Title != "acme" {
		t.Errorf("%+v", s)
	}
	if e := NewTPSSeries("none", 1, nil); len(e.PerSecond) != 0 {
		t.Errorf("no arrivals: %+v", e)
	}
}

func TestAFaultCoveringTheWholeSeriesIsNoBand(t *testing.T) {
	s := TPSSeries{Title: "x", Start: t0, PerSecond: []int{1, 2, 3}}
	whole := FaultSpan{Name: "baseline-rejects", From: t0.Add(-time.Second), To: t0.Add(time.Minute)}
	part := FaultSpan{Name: "outage", From: t0.Add(time.Second), To: t0.Add(2 * time.Second)}
	doc, err := html.Parse(strings.NewReader(string(tpsChart(s, []FaultSpan{whole, part}))))
	if err != nil {
		t.Fatal(err)
	}
	if bands := find(doc, func(n *html.Node) bool { return n.Data == "rect" && hasClass(n, "band") }); len(bands) != 1 {
		t.Errorf("%d bands, want 1: a fault in force all along shades nothing (it is on the timeline)", len(bands))
	}
}
