package htmlreport

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// svg builds one inline SVG element as text. Every string that comes from a
// run (a suite, spec, fault or label name) goes through esc, so that the
// result can be handed to html/template as template.HTML: the builder is the
// one place where the page's escaping is done by hand, and the tests feed it
// hostile names.
type svg struct {
	b    strings.Builder
	w, h float64
}

// newSVG starts an SVG of w x h user units that scales to its container
// (viewBox); label is its accessible name.
func newSVG(w, h float64, label string) *svg {
	s := &svg{w: w, h: h}
	fmt.Fprintf(&s.b, `<svg viewBox="0 0 %s %s" width="100%%" preserveAspectRatio="xMinYMin meet" role="img" aria-label="%s">`,
		f(w), f(h), esc(label))
	fmt.Fprintf(&s.b, `<title>%s</title>`, esc(label))
	return s
}

// esc escapes text for an element's content or a quoted attribute.
func esc(s string) string { return html.EscapeString(s) }

// f formats a coordinate: two decimals at most, no "-0".
func f(v float64) string {
	v = math.Round(v*100) / 100
	if v == 0 {
		v = 0
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// rect draws a rectangle of class with a tooltip (an SVG <title>).
func (s *svg) rect(x, y, w, h float64, class, tip string) {
	fmt.Fprintf(&s.b, `<rect class="%s" x="%s" y="%s" width="%s" height="%s">`, esc(class), f(x), f(y), f(max(w, 0)), f(max(h, 0)))
	if tip != "" {
		fmt.Fprintf(&s.b, `<title>%s</title>`, esc(tip))
	}
	s.b.WriteString(`</rect>`)
}

// line draws a line of class.
func (s *svg) line(x1, y1, x2, y2 float64, class string) {
	fmt.Fprintf(&s.b, `<line class="%s" x1="%s" y1="%s" x2="%s" y2="%s"/>`, esc(class), f(x1), f(y1), f(x2), f(y2))
}

// text writes a label; anchor is start, middle or end.
func (s *svg) text(x, y float64, anchor, class, t string) {
	fmt.Fprintf(&s.b, `<text class="%s" x="%s" y="%s" text-anchor="%s">%s</text>`, esc(class), f(x), f(y), esc(anchor), esc(t))
}

// html closes the element.
func (s *svg) html() template.HTML {
	s.b.WriteString(`</svg>`)
	return template.HTML(s.b.String()) //nolint:gosec // built from escaped parts only (see esc)
}

// plot is the drawing area inside a chart's margins, with the y scale.
type plot struct {
	left, top, width, height float64
	ymax                     float64
}

// y maps a value to its SVG y coordinate.
func (p plot) y(v float64) float64 {
	if p.ymax <= 0 {
		return p.top + p.height
	}
	return p.top + p.height - p.height*min(v, p.ymax)/p.ymax
}

// yAxis draws the value axis with a few round ticks and their grid lines.
func (s *svg) yAxis(p plot) {
	for _, t := range ticks(p.ymax) {
		y := p.y(t)
		s.line(p.left, y, p.left+p.width, y, "grid")
		s.text(p.left-4, y+3, "end", "tick", formatNumber(t))
	}
	s.line(p.left, p.top, p.left, p.top+p.height, "axis")
	s.line(p.left, p.top+p.height, p.left+p.width, p.top+p.height, "axis")
}

// niceMax rounds a maximum up to 1, 2 or 5 times a power of ten, so that the
// ticks fall on round numbers.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// ticks are 0 to max in four or five steps.
func ticks(max float64) []float64 {
	if max <= 0 {
		return []float64{0}
	}
	step := niceMax(max / 5)
	var out []float64
	for t := 0.0; t <= max+step/1e9; t += step {
		out = append(out, t)
	}
	return out
}
