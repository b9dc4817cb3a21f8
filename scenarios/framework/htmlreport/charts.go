package htmlreport

import (
	"fmt"
	"html/template"
	"time"
)

// Chart sizes in SVG user units. The page scales each SVG to its box: the TPS
// chart and the timeline span the page (wideW), the others take half of it
// (chartW), so that one unit is about one pixel and the text of every chart
// reads the same size.
const (
	wideW      = 1100.0
	chartW     = 540.0
	chartH     = 220.0
	marginL    = 48.0
	marginR    = 12.0
	marginT    = 14.0
	marginB    = 30.0
	rowH       = 22.0
	labelW     = 170.0
	minBarW    = 3.0 // an instant fault or a one-value bar still shows
	maxXLabels = 12
)

// tpsChart draws one bar per second of the series, red where the second went
// over the contract, the contract as a dashed line, and the faults of the
// same spec as shaded bands behind the seconds they lasted: how the
// connector's rate answered each disturbance is the point of the chart.
func tpsChart(s TPSSeries, faults []FaultSpan) template.HTML {
	n := len(s.PerSecond)
	peak := s.Limit
	for _, v := range s.PerSecond {
		peak = max(peak, v)
	}
	g := newSVG(wideW, chartH, s.Title)
	p := plot{left: marginL, top: marginT, width: wideW - marginL - marginR, height: chartH - marginT - marginB,
		ymax: niceMax(float64(peak) * 1.1)}
	slot := p.width / float64(max(n, 1))
	sec := func(t time.Time) float64 { return t.Sub(s.Start).Seconds() }
	for _, fl := range faults {
		a, b := max(sec(fl.From), 0), min(sec(fl.To), float64(n))
		if b < 0 || a > float64(n) {
			continue // outside the series
		}
		if !fl.From.After(s.Start) && !fl.To.Before(s.End()) {
			continue // in force all along: it shapes the run, the timeline shows it
		}
		g.rect(p.left+a*slot, p.top, max((b-a)*slot, minBarW), p.height, "band", faultTip(fl, s.Start))
	}
	g.yAxis(p)
	for i, v := range s.PerSecond {
		class := "bar"
		if s.Limit > 0 && v > s.Limit {
			class += " over"
		}
		tip := fmt.Sprintf("+%ds (%s): %d submit_sm", i, s.Start.Add(time.Duration(i)*time.Second).UTC().Format("15:04:05"), v)
		if s.Limit > 0 {
			tip += fmt.Sprintf(", contract %d", s.Limit)
		}
		y := p.y(float64(v))
		g.rect(p.left+float64(i)*slot+slot*0.1, y, slot*0.8, p.top+p.height-y, class, tip)
	}
	if s.Limit > 0 {
		y := p.y(float64(s.Limit))
		g.line(p.left, y, p.left+p.width, y, "limit")
		g.text(p.left+p.width-2, y-4, "end", "limit-label", fmt.Sprintf("contract %d TPS", s.Limit))
	}
	every := max(1, (n+maxXLabels-1)/maxXLabels)
	for i := 0; i < n; i += every {
		g.text(p.left+(float64(i)+0.5)*slot, chartH-marginB+14, "middle", "tick", fmt.Sprintf("+%ds", i))
	}
	g.text(p.left+p.width/2, chartH-4, "middle", "axis-label", "seconds since the first submit_sm (arrivals per wall-clock second)")
	return g.html()
}

// histogramChart draws one bar per bucket, including empty ones: the fixed
// buckets make two runs' histograms comparable side by side.
func histogramChart(h Histogram) template.HTML {
	peak := 0
	for _, c := range h.Counts {
		peak = max(peak, c)
	}
	g := newSVG(chartW, chartH, h.Title)
	p := plot{left: marginL, top: marginT, width: chartW - marginL - marginR, height: chartH - marginT - marginB,
		ymax: niceMax(float64(peak))}
	g.yAxis(p)
	slot := p.width / float64(max(len(h.Counts), 1))
	for i, c := range h.Counts {
		label := bucketLabel(h, i)
		share := 0.0
		if h.N > 0 {
			share = 100 * float64(c) / float64(h.N)
		}
		y := p.y(float64(c))
		g.rect(p.left+float64(i)*slot+slot*0.08, y, slot*0.84, p.top+p.height-y, "bar",
			fmt.Sprintf("%s %s: %d (%.1f%%)", label, h.Unit, c, share))
		g.text(p.left+(float64(i)+0.5)*slot, chartH-marginB+14, "middle", "tick", label)
	}
	g.text(p.left+p.width/2, chartH-4, "middle", "axis-label", "upper bound of the bucket ("+h.Unit+")")
	return g.html()
}

// bucketLabel is "≤5", "≤2s" or ">30s": milliseconds from a second on are
// shown in seconds, to keep the labels short.
func bucketLabel(h Histogram, i int) string {
	short := func(v float64) string {
		if h.Unit == "ms" && v >= 1000 {
			return formatNumber(v/1000) + "s"
		}
		return formatNumber(v)
	}
	if i < len(h.Bounds) {
		return "≤" + short(h.Bounds[i])
	}
	if len(h.Bounds) == 0 {
		return "all"
	}
	return ">" + short(h.Bounds[len(h.Bounds)-1])
}

// breakdownChart draws one horizontal bar per label, its length the label's
// share of the total, with the count and share written beside it.
func breakdownChart(b Breakdown) template.HTML {
	total := b.Total()
	h := marginT + rowH*float64(max(len(b.Slices), 1)) + 8
	g := newSVG(chartW, h, b.Title)
	width := chartW - labelW - 110
	for i, s := range b.Slices {
		share := 0.0
		if total > 0 {
			share = float64(s.Count) / float64(total)
		}
		y := marginT + rowH*float64(i)
		g.text(labelW-6, y+rowH*0.65, "end", "label", shorten(s.Label, 26))
		g.rect(labelW, y+3, max(width*share, 1), rowH-6, fmt.Sprintf("bar c%d", i%6),
			fmt.Sprintf("%s: %d of %d (%.2f%%)", s.Label, s.Count, total, 100*share))
		g.text(labelW+max(width*share, 1)+6, y+rowH*0.65, "start", "value", fmt.Sprintf("%d (%.1f%%)", s.Count, 100*share))
	}
	return g.html()
}

// timelineChart draws each fault on a row of its own, from when it was
// injected to when it was lifted, on an axis of seconds from start to end.
func timelineChart(spans []FaultSpan, start, end time.Time) template.HTML {
	total := max(end.Sub(start).Seconds(), 1)
	h := marginT + rowH*float64(max(len(spans), 1)) + marginB
	g := newSVG(wideW, h, "faults injected")
	width := wideW - labelW - marginR
	x := func(t time.Time) float64 { return labelW + width*min(max(t.Sub(start).Seconds(), 0), total)/total }
	for _, t := range ticks(total) {
		tx := labelW + width*t/total
		g.line(tx, marginT, tx, h-marginB, "grid")
		g.text(tx, h-marginB+14, "middle", "tick", "+"+formatNumber(t)+"s")
	}
	for i, s := range spans {
		y := marginT + rowH*float64(i)
		g.text(labelW-6, y+rowH*0.65, "end", "label", shorten(s.Name, 26))
		g.rect(x(s.From), y+3, max(x(s.To)-x(s.From), minBarW), rowH-6, "bar fault", faultTip(s, start))
	}
	g.text(labelW+width/2, h-4, "middle", "axis-label", "seconds since the start of the spec's traffic")
	return g.html()
}

func faultTip(s FaultSpan, start time.Time) string {
	tip := s.Name
	if s.Detail != "" {
		tip += ": " + s.Detail
	}
	a, b := s.From.Sub(start).Seconds(), s.To.Sub(start).Seconds()
	if s.To.Equal(s.From) {
		return fmt.Sprintf("%s, at +%.1fs", tip, a)
	}
	return fmt.Sprintf("%s, +%.1fs to +%.1fs (%.1f s)", tip, a, b, b-a)
}

// shorten cuts a label that would run into its bar; the tooltip keeps it
// whole.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
