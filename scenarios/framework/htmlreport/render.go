package htmlreport

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"time"
)

//go:embed page.html.tmpl
var pageTemplate string

// The template is parsed once; html/template escapes every value it is given
// for where it lands, and the charts arrive as template.HTML from svg.go.
var page = template.Must(template.New("page").Parse(pageTemplate))

type pageView struct {
	Generated string
	Suites    []suiteView
}

type suiteView struct {
	ID, Name     string
	Verdict      string
	VerdictClass string
	Met, Total   int
	Summary      *Summary
	Previous     string // when the previous run started, or ""
	Rows         []rowView
	Groups       []groupView
	Notes        []string
}

type rowView struct {
	Criterion
	Class string
	Trend Trend
}

type groupView struct {
	Spec   string
	Charts []chartView
}

type chartView struct {
	Kind    string // tps, histogram, breakdown, timeline: the figure's data-chart
	Title   string
	Caption string
	SVG     template.HTML
}

// Render writes the page of suites.
func Render(w io.Writer, suites []Suite, now time.Time) error {
	v := pageView{Generated: now.UTC().Format(time.RFC3339)}
	for i, s := range suites {
		v.Suites = append(v.Suites, suiteViewOf(i, s))
	}
	return page.Execute(w, v)
}

func suiteViewOf(i int, s Suite) suiteView {
	sv := suiteView{ID: fmt.Sprintf("suite-%d", i+1), Name: s.Name, Summary: s.Summary, Verdict: "NO GATE SUMMARY", VerdictClass: "missing"}
	if sm := s.Summary; sm != nil {
		sv.Verdict, sv.VerdictClass = "PASSED", "pass"
		switch {
		case !sm.SuiteOK:
			sv.Verdict, sv.VerdictClass = "NOT PASSED (the suite failed)", "fail"
		case !sm.Passed:
			sv.Verdict, sv.VerdictClass = "NOT PASSED", "fail"
		}
		if !sm.Complete {
			sv.Notes = append(sv.Notes, "Partial run (label or focus filters, an interrupt, a failed setup): criteria not measured do not count.")
		}
		prev := map[string]*Criterion{}
		if s.Previous != nil {
			sv.Previous = s.Previous.StartTime.UTC().Format(time.RFC3339)
			for j := range s.Previous.Criteria {
				prev[s.Previous.Criteria[j].Name] = &s.Previous.Criteria[j]
			}
		}
		for _, c := range sm.Criteria {
			class := "fail"
			switch {
			case c.Missing:
				class = "missing"
			case c.Pass:
				class = "pass"
				sv.Met++
			}
			sv.Rows = append(sv.Rows, rowView{Criterion: c, Class: class, Trend: TrendOf(c, prev[c.Name])})
		}
		sv.Total = len(sm.Criteria)
	}
	if s.Run != nil {
		sv.Groups = groupsOf(*s.Run)
	}
	return sv
}

// groupsOf lays a run's items out by spec, in the order the specs recorded
// them: the TPS of each SMSC account first, with the spec's faults shaded
// over it, then the faults' timeline, the latency histograms and the
// breakdowns.
func groupsOf(r Run) []groupView {
	type group struct {
		tps        []TPSSeries
		hists      []Histogram
		breakdowns []Breakdown
		faults     []FaultSpan
	}
	var order []string
	groups := map[string]*group{}
	for _, it := range r.Items {
		g := groups[it.Spec]
		if g == nil {
			g = &group{}
			groups[it.Spec] = g
			order = append(order, it.Spec)
		}
		switch {
		case it.TPS != nil:
			g.tps = append(g.tps, *it.TPS)
		case it.Histogram != nil:
			g.hists = append(g.hists, *it.Histogram)
		case it.Breakdown != nil:
			g.breakdowns = append(g.breakdowns, *it.Breakdown)
		case it.Fault != nil:
			g.faults = append(g.faults, *it.Fault)
		}
	}
	var out []groupView
	for _, spec := range order {
		g := groups[spec]
		gv := groupView{Spec: spec}
		if gv.Spec == "" {
			gv.Spec = "(outside a spec)"
		}
		var start, end time.Time
		widen := func(a, b time.Time) {
			if start.IsZero() || a.Before(start) {
				start = a
			}
			if b.After(end) {
				end = b
			}
		}
		for _, s := range g.tps {
			gv.Charts = append(gv.Charts, chartView{Kind: "tps", Title: s.Title, Caption: tpsCaption(s), SVG: tpsChart(s, g.faults)})
			widen(s.Start, s.End())
		}
		if len(g.faults) > 0 {
			for _, fl := range g.faults {
				widen(fl.From, fl.To)
			}
			gv.Charts = append(gv.Charts, chartView{Kind: "timeline", Title: "Faults injected",
				Caption: fmt.Sprintf("%d fault(s); from %s UTC", len(g.faults), start.UTC().Format("15:04:05")),
				SVG:     timelineChart(g.faults, start, end)})
		}
		for _, h := range g.hists {
			gv.Charts = append(gv.Charts, chartView{Kind: "histogram", Title: h.Title,
				Caption: fmt.Sprintf("%d values; p50 %s %s, p99 %s %s, max %s %s", h.N,
					formatNumber(h.P50), h.Unit, formatNumber(h.P99), h.Unit, formatNumber(h.Max), h.Unit),
				SVG: histogramChart(h)})
		}
		for _, b := range g.breakdowns {
			gv.Charts = append(gv.Charts, chartView{Kind: "breakdown", Title: b.Title,
				Caption: fmt.Sprintf("%d in all", b.Total()), SVG: breakdownChart(b)})
		}
		out = append(out, gv)
	}
	return out
}

func tpsCaption(s TPSSeries) string {
	peak, sum, over := 0, 0, 0
	for _, v := range s.PerSecond {
		peak, sum = max(peak, v), sum+v
		if s.Limit > 0 && v > s.Limit {
			over++
		}
	}
	c := fmt.Sprintf("%d submit_sm in %d s, peak %d in a wall-clock second", sum, len(s.PerSecond), peak)
	if s.Limit > 0 {
		c += fmt.Sprintf(" (%d over the contracted %d TPS)", over, s.Limit)
	}
	if s.WorstSliding > 0 || s.Breaches > 0 {
		c += fmt.Sprintf("; the SMSC's sliding-second audit: worst %d, %d breaches", s.WorstSliding, s.Breaches)
	}
	if s.Note != "" {
		c += "; " + s.Note
	}
	return c
}
