package htmlreport

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func num(v float64) *float64 { return &v }

// fixture is a suite with every kind of chart and a previous run: the page's
// whole vocabulary.
func fixture() Suite {
	prevSuccess, prevBreaches := 99.7, 0.0
	return Suite{
		Name: "phase2",
		Summary: &Summary{Suite: "phase2", Group: "phase2", Passed: false, Complete: true, SuiteOK: true, StartTime: t0, Duration: "41s",
			Criteria: []Criterion{
				{Name: "submit_success_rate", Threshold: ">= 99.5 % of baseline", Measured: "99.9 % of baseline", Value: num(99.9), Pass: true},
				{Name: "tps_breaches", Threshold: "<= 0 breaches", Measured: "3 breaches", Value: num(3), Pass: false},
				{Name: "receipt_correlation_accuracy", Threshold: ">= 100 %", Measured: "-", Missing: true},
			}},
		Previous: &Summary{Suite: "phase2", Group: "phase2", Passed: true, Complete: true, SuiteOK: true, StartTime: t0.Add(-time.Hour),
			Criteria: []Criterion{
				{Name: "submit_success_rate", Threshold: ">= 99.5 % of baseline", Measured: "99.7 % of baseline", Value: &prevSuccess, Pass: true},
				{Name: "tps_breaches", Threshold: "<= 0 breaches", Measured: "0 breaches", Value: &prevBreaches, Pass: true},
			}},
		Run: &Run{Suite: "phase2", StartTime: t0, Items: []Item{
			{Spec: "shadow run", TPS: &TPSSeries{Title: "shadow-smsc/acme TPS", Limit: 200, Start: t0, PerSecond: []int{120, 200, 210, 180, 90, 0, 30}}},
			{Spec: "shadow run", Histogram: ptr(NewHistogram("submit latency", "ms", LatencyBoundsMs, []float64{0.5, 3, 3, 12, 40, 700, 40000}))},
			{Spec: "shadow run", Histogram: ptr(NewHistogram("receipt latency", "ms", LatencyBoundsMs, []float64{90, 110, 250}))},
			{Spec: "shadow run", Breakdown: &Breakdown{Title: "submit outcomes", Slices: []Slice{{"accepted", 985}, {"rejected", 15}}}},
			{Spec: "shadow run", Breakdown: &Breakdown{Title: "receipt states", Slices: []Slice{{"DELIVERED", 970}, {"UNDELIVERABLE", 10}, {"EXPIRED", 5}}}},
			{Spec: "shadow run", Fault: &FaultSpan{Name: "pushback", Detail: "throttle 180 TPS", From: t0.Add(time.Second), To: t0.Add(3 * time.Second)}},
			{Spec: "shadow run", Fault: &FaultSpan{Name: "kill -9", From: t0.Add(4 * time.Second), To: t0.Add(4 * time.Second)}},
		}},
	}
}

func ptr[T any](v T) *T { return &v }

func render(t *testing.T, suites ...Suite) (string, *html.Node) {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, suites, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatalf("the page does not parse: %v", err)
	}
	return b.String(), doc
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

// find returns every element below n (n included) for which match is true.
func find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func tag(name string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == name }
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// charts returns the figures of kind (data-chart) with their svg, failing
// when a figure has no svg or more than one.
func charts(t *testing.T, doc *html.Node, kind string) []*html.Node {
	t.Helper()
	var svgs []*html.Node
	for _, f := range find(doc, func(n *html.Node) bool { return n.Data == "figure" && attr(n, "data-chart") == kind }) {
		s := find(f, tag("svg"))
		if len(s) != 1 {
			t.Fatalf("a %s figure has %d svg elements, want 1", kind, len(s))
		}
		svgs = append(svgs, s[0])
	}
	return svgs
}

func bars(svg *html.Node) []*html.Node {
	return find(svg, func(n *html.Node) bool { return n.Data == "rect" && hasClass(n, "bar") })
}

func TestEveryChartIsAnSVGWithOneBarPerValue(t *testing.T) {
	_, doc := render(t, fixture())

	tps := charts(t, doc, "tps")
	if len(tps) != 1 {
		t.Fatalf("%d TPS charts, want 1", len(tps))
	}
	if got := len(bars(tps[0])); got != 7 {
		t.Errorf("TPS chart: %d bars, want one per second (7)", got)
	}
	if over := find(tps[0], func(n *html.Node) bool { return n.Data == "rect" && hasClass(n, "over") }); len(over) != 1 {
		t.Errorf("TPS chart: %d seconds marked over the contract, want 1 (210 > 200)", len(over))
	}
	if lim := find(tps[0], func(n *html.Node) bool { return n.Data == "line" && hasClass(n, "limit") }); len(lim) != 1 {
		t.Errorf("TPS chart: %d contract lines, want 1", len(lim))
	}
	// The faults of the same spec are shaded over the seconds they lasted.
	if bands := find(tps[0], func(n *html.Node) bool { return n.Data == "rect" && hasClass(n, "band") }); len(bands) != 2 {
		t.Errorf("TPS chart: %d fault bands, want 2", len(bands))
	}

	hist := charts(t, doc, "histogram")
	if len(hist) != 2 {
		t.Fatalf("%d histograms, want 2 (submit and receipt latency)", len(hist))
	}
	for _, h := range hist {
		if got := len(bars(h)); got != len(LatencyBoundsMs)+1 {
			t.Errorf("histogram %q: %d bars, want one per bucket (%d)", attr(h, "aria-label"), got, len(LatencyBoundsMs)+1)
		}
	}

	bd := charts(t, doc, "breakdown")
	if len(bd) != 2 {
		t.Fatalf("%d breakdowns, want 2", len(bd))
	}
	for i, want := range []int{2, 3} {
		if got := len(bars(bd[i])); got != want {
			t.Errorf("breakdown %q: %d bars, want %d", attr(bd[i], "aria-label"), got, want)
		}
	}

	tl := charts(t, doc, "timeline")
	if len(tl) != 1 {
		t.Fatalf("%d fault timelines, want 1", len(tl))
	}
	if got := len(bars(tl[0])); got != 2 {
		t.Errorf("timeline: %d fault bars, want 2", got)
	}
	// An instant fault still shows (a bar of some width).
	for _, b := range bars(tl[0]) {
		if w := attr(b, "width"); w == "" || w == "0" || strings.HasPrefix(w, "-") {
			t.Errorf("timeline bar %q has width %q", text(b), w)
		}
	}
}

func TestCriteriaTableHasARowPerCriterionWithResultAndTrend(t *testing.T) {
	_, doc := render(t, fixture())
	tables := find(doc, func(n *html.Node) bool { return n.Data == "table" && hasClass(n, "criteria") })
	if len(tables) != 1 {
		t.Fatalf("%d criteria tables, want 1", len(tables))
	}
	rows := find(tables[0], func(n *html.Node) bool { return n.Data == "tr" && hasClass(n, "criterion") })
	if len(rows) != 3 {
		t.Fatalf("%d criterion rows, want 3", len(rows))
	}
	want := []struct{ name, class, result, trend, trendText string }{
		{"submit_success_rate", "pass", "PASS", "better", "+0.2 (was 99.7)"},
		{"tps_breaches", "fail", "FAIL", "worse", "was PASS"},
		{"receipt_correlation_accuracy", "missing", "NOT MEASURED", "new", ""},
	}
	for i, w := range want {
		r := rows[i]
		cells := find(r, tag("td"))
		if len(cells) != 5 {
			t.Fatalf("row %d: %d cells, want 5 (criterion, threshold, measured, result, trend)", i, len(cells))
		}
		if got := text(cells[0]); got != w.name {
			t.Errorf("row %d: criterion %q, want %q", i, got, w.name)
		}
		if !hasClass(r, w.class) || text(cells[3]) != w.result {
			t.Errorf("row %s: class %q result %q, want %q %q", w.name, attr(r, "class"), text(cells[3]), w.class, w.result)
		}
		if !hasClass(cells[4], w.trend) || !strings.Contains(text(cells[4]), w.trendText) {
			t.Errorf("row %s: trend %q %q, want %q containing %q", w.name, attr(cells[4], "class"), text(cells[4]), w.trend, w.trendText)
		}
	}
	if th := find(tables[0], tag("th")); len(th) != 5 {
		t.Errorf("%d header cells, want 5", len(th))
	}
}

func TestHostileNamesAreEscaped(t *testing.T) {
	const (
		script = `<script>alert(1)</script>`
		img    = `"><img src=x onerror=alert(2)>`
		svg    = `</text><svg onload=alert(3)>`
	)
	s := fixture()
	s.Name, s.Summary.Suite = script, script
	s.Summary.Criteria[0].Name = img
	s.Summary.Criteria[1].Measured = svg
	s.Run.Items[0].Spec = img // a spec named like this gets a section title and an id
	for i := range s.Run.Items {
		s.Run.Items[i].Spec = img
	}
	s.Run.Items[0].TPS.Title = svg
	s.Run.Items[3].Breakdown.Slices[0].Label = script
	s.Run.Items[5].Fault.Name = svg
	s.Run.Items[5].Fault.Detail = img
	page, doc := render(t, s)

	if n := find(doc, tag("script")); len(n) != 0 {
		t.Errorf("%d script elements in the page", len(n))
	}
	if n := find(doc, tag("img")); len(n) != 0 {
		t.Errorf("%d img elements in the page", len(n))
	}
	for _, n := range find(doc, func(*html.Node) bool { return true }) {
		for _, a := range n.Attr {
			if strings.HasPrefix(strings.ToLower(a.Key), "on") {
				t.Errorf("<%s> has an event handler %s=%q", n.Data, a.Key, a.Val)
			}
		}
	}
	if got := len(find(doc, tag("svg"))); got != 6 { // the five charts and nothing injected
		t.Errorf("%d svg elements, want 6 (2 histograms, 2 breakdowns, TPS, timeline)", got)
	}
	// The names are there, as text.
	body := text(doc)
	for _, s := range []string{script, img, svg} {
		if !strings.Contains(body, s) {
			t.Errorf("the page's text lacks %q", s)
		}
	}
	if strings.Contains(page, "<script>alert") || strings.Contains(page, "<img src=x") {
		t.Error("a hostile name reached the page unescaped")
	}
}

func TestThePageLoadsNothing(t *testing.T) {
	page, doc := render(t, fixture())
	for _, n := range find(doc, func(*html.Node) bool { return true }) {
		switch n.Data {
		case "script", "link", "iframe", "object", "embed", "img", "image", "use", "base":
			t.Errorf("the page has a <%s> element", n.Data)
		}
		for _, a := range n.Attr {
			k := strings.ToLower(a.Key)
			if k == "src" || k == "srcset" || k == "action" || k == "data" || strings.HasSuffix(k, "href") {
				if !strings.HasPrefix(a.Val, "#") {
					t.Errorf("<%s %s=%q> refers to something outside the page", n.Data, a.Key, a.Val)
				}
			}
		}
	}
	for _, st := range find(doc, tag("style")) {
		css := strings.ToLower(text(st))
		for _, bad := range []string{"url(", "@import", "@font-face"} {
			if strings.Contains(css, bad) {
				t.Errorf("the stylesheet has %s", bad)
			}
		}
	}
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Error("the page names an http(s) address")
	}
}

func TestSuitesWithoutRunOrPreviousStillRender(t *testing.T) {
	only := fixture()
	only.Previous, only.Run = nil, nil
	runOnly := Suite{Name: "faults", Run: fixture().Run}
	_, doc := render(t, only, runOnly)
	sections := find(doc, func(n *html.Node) bool { return n.Data == "section" && hasClass(n, "suite") })
	if len(sections) != 2 {
		t.Fatalf("%d suite sections, want 2", len(sections))
	}
	for _, r := range find(sections[0], func(n *html.Node) bool { return n.Data == "td" && hasClass(n, "trend") }) {
		if !hasClass(r, "new") {
			t.Errorf("no previous run, yet a trend %q", text(r))
		}
	}
	if n := len(find(sections[0], tag("svg"))); n != 0 {
		t.Errorf("a suite without a run record has %d charts", n)
	}
	if n := len(find(sections[1], tag("svg"))); n != 6 {
		t.Errorf("a suite with only a run record has %d charts, want 6", n)
	}
	if !strings.Contains(text(sections[1]), "no gate summary") {
		t.Error("a suite without a summary does not say so")
	}
}
