package compare

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the comparison as the subcommand prints it.
type Report struct {
	Legacy    LogSummary `json:"legacy"`
	Connector LogSummary `json:"connector"`
	*Result
	MinMatch float64 `json:"minMatch"`
	Pass     bool    `json:"pass"`
}

// LogSummary says what was read from one file.
type LogSummary struct {
	File       string         `json:"file"`
	Lines      int            `json:"lines"`
	Messages   int            `json:"messages"` // distinct message ids
	Records    int            `json:"records"`  // messages, each duplicate line counted (legacy)
	Events     int            `json:"events"`   // lines read as outcomes (connector: one a part's event)
	Repeats    int            `json:"repeatedEvents,omitempty"`
	Duplicates []string       `json:"duplicates"`
	Skipped    map[string]int `json:"skipped"`
	Invalid    []*LineError   `json:"invalid"`
	First      *time.Time     `json:"first,omitempty"`
	Last       *time.Time     `json:"last,omitempty"`
}

func summary(l *Log) LogSummary {
	s := LogSummary{File: l.File, Lines: l.Lines, Messages: len(l.byID()), Records: len(l.Records), Events: l.Events,
		Repeats: l.Repeats, Duplicates: l.Duplicates, Skipped: l.Skipped, Invalid: l.Invalid}
	if s.Duplicates == nil {
		s.Duplicates = []string{}
	}
	if s.Invalid == nil {
		s.Invalid = []*LineError{}
	}
	if first, last := l.Span(); !first.IsZero() {
		s.First, s.Last = &first, &last
	}
	return s
}

// NewReport joins the logs and judges the match rate against minMatch.
func NewReport(legacy, connector *Log, minMatch float64) *Report {
	r := &Report{Legacy: summary(legacy), Connector: summary(connector), Result: Join(legacy, connector), MinMatch: minMatch}
	if r.Disagreements == nil {
		r.Disagreements = []Disagreement{}
	}
	r.Pass = r.Total > 0 && r.MatchRate >= minMatch
	return r
}

// WriteJSON writes the report, every disagreement included, as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// TextListLimit bounds the disagreeing messages the text report lists
// (the JSON report lists them all).
const TextListLimit = 50

// WriteText writes the report for people: what was read, the figures,
// per operator, and the first TextListLimit disagreeing messages.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, s := range []struct {
		name string
		LogSummary
	}{{"legacy", r.Legacy}, {"connector", r.Connector}} {
		fmt.Fprintf(&b, "%-9s %s: %d line(s), %d message(s)", s.name, s.File, s.Lines, s.Messages)
		if s.Repeats > 0 {
			fmt.Fprintf(&b, ", %d repeated event(s)", s.Repeats)
		}
		if len(s.Skipped) > 0 {
			fmt.Fprintf(&b, ", skipped %s", skippedText(s.Skipped))
		}
		if len(s.Invalid) > 0 {
			fmt.Fprintf(&b, ", %d INVALID line(s)", len(s.Invalid))
		}
		if s.First != nil {
			fmt.Fprintf(&b, ", %s .. %s", s.First.Format(time.RFC3339), s.Last.Format(time.RFC3339))
		}
		b.WriteByte('\n')
		for i, e := range s.Invalid {
			if i == 10 {
				fmt.Fprintf(&b, "  ... and %d more invalid line(s)\n", len(s.Invalid)-i)
				break
			}
			fmt.Fprintf(&b, "  %v\n", e)
		}
	}
	verdict := "PASS"
	if !r.Pass {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "\nmatched %d of %d message(s): %s (minimum %s) %s\n\n", r.Matched, r.Total,
		percent(r.MatchRate), percent(r.MinMatch), verdict)
	ops := make([]string, 0, len(r.Operators))
	for op := range r.Operators {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	figs := make([]*Figures, 0, len(ops)+1)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\t")
	for _, op := range ops {
		fmt.Fprintf(tw, "%s\t", op)
		figs = append(figs, r.Operators[op])
	}
	fmt.Fprintln(tw, "all\t")
	figs = append(figs, &r.Figures)
	row := func(name string, cell func(*Figures) string) {
		fmt.Fprintf(tw, "%s\t", name)
		for _, f := range figs {
			fmt.Fprintf(tw, "%s\t", cell(f))
		}
		fmt.Fprintln(tw)
	}
	row("messages", func(f *Figures) string { return fmt.Sprint(f.Total) })
	row("matched", func(f *Figures) string { return fmt.Sprint(f.Matched) })
	row("match rate", func(f *Figures) string { return percent(f.MatchRate) })
	for _, c := range Classes {
		row(string(c), func(f *Figures) string { return fmt.Sprint(f.Classes[c]) })
	}
	tw.Flush()
	if n := len(r.Disagreements); n > 0 {
		fmt.Fprintf(&b, "\n%d disagreeing message(s) (outcome @line):\n", n)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  class\toperator\tmessage id\tlegacy\tconnector")
		for i, d := range r.Disagreements {
			if i == TextListLimit {
				fmt.Fprintf(tw, "  ... and %d more (-format json lists them all)\n", n-i)
				break
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", d.Class, d.Operator, d.MessageID, sideText(d.Legacy), sideText(d.Connector))
		}
		tw.Flush()
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func sideText(s *Side) string {
	if s == nil {
		return "-"
	}
	t := string(s.Outcome)
	if s.Code != "" {
		t += " " + s.Code.String()
	}
	if s.Detail != "" && !strings.Contains(t, s.Detail) {
		t += " (" + s.Detail + ")"
	}
	return fmt.Sprintf("%s @%d", t, s.Line)
}

func skippedText(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}

// percent prints a rate with enough digits to tell 99.49% from 99.50%.
func percent(r float64) string { return fmt.Sprintf("%.2f%%", 100*r) }
