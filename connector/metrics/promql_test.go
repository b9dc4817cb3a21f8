package metrics

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/promql/parser"
)

// targetLabels are added by Prometheus to every series it scrapes, whatever
// the connector registers. A query grouping by a label relabelling adds (pod,
// namespace) would need it listed here.
var targetLabels = []string{"instance", "job"}

// prometheusSeries are series Prometheus writes itself, with their labels
// (target labels aside): the dashboard shows scrape health and the alerts of
// deploy/alerts.yaml, whose expressions give operator or kind.
var prometheusSeries = map[string][]string{
	"up":     nil,
	"ALERTS": {"alertname", "alertstate", "severity", "operator", "kind"},
}

// labelSet is the label names a (sub)expression's series may carry; nil
// after an error (an unknown metric), so that one error is reported once
// rather than again at every grouping above it.
type labelSet map[string]bool

// has says whether s may carry name: anything, once unknown.
func (s labelSet) has(name string) bool { return s == nil || s[name] }

// with adds names to s (s stays unknown if it is).
func (s labelSet) with(names ...string) labelSet {
	if s == nil {
		return nil
	}
	out := maps.Clone(s)
	for _, n := range names {
		out[n] = true
	}
	return out
}

func setOf(names ...string) labelSet {
	s := labelSet{}
	for _, n := range names {
		s[n] = true
	}
	return s
}

func (s labelSet) String() string { return "(" + strings.Join(slices.Sorted(maps.Keys(s)), ", ") + ")" }

// promQL checks expressions with Prometheus' own parser against the
// connector's registry: every selector names a series the connector (or
// Prometheus) exposes, every matcher and every by/on/ignoring/group label is
// one that series can carry at that point of the expression. It infers the
// labels of each subexpression the way the engine would build them, so
// `sum by (operator) (smpp_publish_errors_total)` (no operator label) fails.
type promQL struct {
	reg  map[string]family
	errs []string
	used map[string]bool // metric (family) names selected so far
}

func newPromQL(t *testing.T) *promQL { return &promQL{reg: registered(t), used: map[string]bool{}} }

// check parses expr and returns what is wrong with it, if anything.
func (c *promQL) check(expr string) []string {
	c.errs = nil
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return []string{err.Error()}
	}
	c.labelsOf(e)
	return c.errs
}

func (c *promQL) fail(format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}

// series resolves a selector's metric name to the labels of its series: a
// histogram is queried as name_bucket (with le), name_sum and name_count, a
// summary as name (with quantile), name_sum and name_count.
func (c *promQL) series(name string) (labelSet, bool) {
	with := func(extra ...string) labelSet {
		return setOf(append(append(slices.Clone(c.reg[strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name,
			"_bucket"), "_sum"), "_count")].labels), targetLabels...), extra...)...)
	}
	if l, ok := prometheusSeries[name]; ok {
		return setOf(append(slices.Clone(l), targetLabels...)...), true
	}
	if f, ok := c.reg[name]; ok {
		switch f.kind {
		case dto.MetricType_HISTOGRAM:
			return nil, false // only its _bucket, _sum and _count exist
		case dto.MetricType_SUMMARY:
			return with("quantile"), true
		}
		return with(), true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		f, ok := c.reg[strings.TrimSuffix(name, suffix)]
		if !strings.HasSuffix(name, suffix) || !ok {
			continue
		}
		switch {
		case f.kind == dto.MetricType_HISTOGRAM && suffix == "_bucket":
			return with("le"), true
		case (f.kind == dto.MetricType_HISTOGRAM || f.kind == dto.MetricType_SUMMARY) && suffix != "_bucket":
			return with(), true
		}
	}
	return nil, false
}

// labelsOf returns the labels e's series may carry (empty for a scalar),
// recording every problem met on the way.
func (c *promQL) labelsOf(e parser.Expr) labelSet {
	switch e := e.(type) {
	case *parser.VectorSelector:
		name := e.Name
		for _, m := range e.LabelMatchers {
			if m.Name == "__name__" && name == "" {
				name = m.Value
			}
		}
		l, ok := c.series(name)
		c.used[strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")] = true
		if !ok {
			c.fail("%s: no such metric (connector/metrics registers none by that name)", e)
			return nil
		}
		for _, m := range e.LabelMatchers {
			if m.Name != "__name__" && !l.has(m.Name) {
				c.fail("%s: %s has no label %s %s", e, name, m.Name, l)
			}
		}
		return l
	case *parser.MatrixSelector:
		return c.labelsOf(e.VectorSelector)
	case *parser.SubqueryExpr:
		return c.labelsOf(e.Expr)
	case *parser.ParenExpr:
		return c.labelsOf(e.Expr)
	case *parser.StepInvariantExpr:
		return c.labelsOf(e.Expr)
	case *parser.UnaryExpr:
		return c.labelsOf(e.Expr)
	case *parser.NumberLiteral, *parser.StringLiteral:
		return labelSet{}
	case *parser.Call:
		return c.call(e)
	case *parser.AggregateExpr:
		in := c.labelsOf(e.Expr)
		if e.Param != nil {
			c.labelsOf(e.Param)
		}
		for _, g := range e.Grouping {
			if !in.has(g) {
				c.fail("%s: groups by %s, which its operand does not have %s", e, g, in)
			}
		}
		var out labelSet
		switch {
		case e.Op == parser.TOPK || e.Op == parser.BOTTOMK || e.Op == parser.LIMITK || e.Op == parser.LIMIT_RATIO:
			out = in // they keep their series as they are
		case e.Without:
			out = maps.Clone(in)
			for _, g := range e.Grouping {
				delete(out, g)
			}
		default:
			out = setOf(e.Grouping...)
		}
		if s, ok := e.Param.(*parser.StringLiteral); ok && e.Op == parser.COUNT_VALUES {
			out = out.with(s.Val)
		}
		return out
	case *parser.BinaryExpr:
		return c.binary(e)
	}
	c.fail("%s: an expression of type %T the check does not know: teach promql_test.go", e, e)
	return labelSet{}
}

// call infers a function's result labels: most keep their vector argument's.
func (c *promQL) call(e *parser.Call) labelSet {
	var args []labelSet
	for _, a := range e.Args {
		args = append(args, c.labelsOf(a))
	}
	str := func(i int) string {
		if i < len(e.Args) {
			if s, ok := e.Args[i].(*parser.StringLiteral); ok {
				return s.Val
			}
		}
		return ""
	}
	switch e.Func.Name {
	case "histogram_quantile", "histogram_fraction":
		in := args[len(args)-1]
		if !in.has("le") {
			c.fail("%s: aggregates away le, which a classic histogram's quantile needs %s", e, in)
		}
		out := maps.Clone(in)
		delete(out, "le")
		return out
	case "label_replace", "label_join":
		return args[0].with(str(1))
	}
	for i, a := range e.Func.ArgTypes {
		if i < len(args) && (a == parser.ValueTypeVector || a == parser.ValueTypeMatrix) {
			return args[i]
		}
	}
	return labelSet{}
}

// binary infers the labels of a binary operation, checking its matching.
func (c *promQL) binary(e *parser.BinaryExpr) labelSet {
	l, r := c.labelsOf(e.LHS), c.labelsOf(e.RHS)
	lv, rv := e.LHS.Type() == parser.ValueTypeVector, e.RHS.Type() == parser.ValueTypeVector
	switch {
	case !lv && !rv:
		return labelSet{}
	case !rv:
		return l
	case !lv:
		return r
	}
	vm := e.VectorMatching
	if vm == nil {
		vm = &parser.VectorMatching{Card: parser.CardOneToOne}
	}
	for _, name := range vm.MatchingLabels {
		if vm.On && (!l.has(name) || !r.has(name)) || !vm.On && !l.has(name) && !r.has(name) {
			c.fail("%s: matches on %s, which is not on both sides %s %s", e, name, l, r)
		}
	}
	one := r
	if vm.Card == parser.CardOneToMany {
		one = l
	}
	for _, name := range vm.Include {
		if !one.has(name) {
			c.fail("%s: groups in %s, which its one side does not have %s", e, name, one)
		}
	}
	switch {
	case e.Op == parser.LOR:
		if r == nil {
			return nil
		}
		return l.with(slices.Collect(maps.Keys(r))...)
	case e.Op == parser.LAND || e.Op == parser.LUNLESS:
		return l
	case vm.Card == parser.CardManyToOne || vm.Card == parser.CardOneToMany:
		if vm.Card == parser.CardOneToMany {
			return r.with(vm.Include...)
		}
		return l.with(vm.Include...)
	case vm.On:
		return setOf(vm.MatchingLabels...)
	}
	out := maps.Clone(l)
	for _, name := range vm.MatchingLabels {
		delete(out, name)
	}
	return out
}

// Every alert expression of deploy/alerts.yaml parses with Prometheus'
// parser and selects metrics and labels the connector exposes.
func TestAlertRulesParseAndUseExistingLabels(t *testing.T) {
	c := newPromQL(t)
	for _, r := range alertRules(t) {
		for _, e := range c.check(r.Expr) {
			t.Errorf("%s: %s", r.Alert, e)
		}
	}
}

// The checker catches what it is for: a query on a metric the connector
// does not have, or on a label its metric does not carry, at any depth.
func TestPromQLCheckCatchesWrongNamesAndLabels(t *testing.T) {
	c := newPromQL(t)
	for expr, want := range map[string]string{
		`sum by (operator) (rate(smpp_submits_total[5m]))`:                                                            "",
		`histogram_quantile(0.99, sum by (operator, le) (rate(smpp_submit_latency_seconds_bucket[5m])))`:              "",
		`max by (instance) (smpp_outbox_lag_seconds) > 60 and on (instance) up == 1`:                                  "",
		`sum by (operator) (rate(smpp_submit_total[5m]))`:                                                             "no such metric",
		`rate(smpp_submit_latency_seconds[5m])`:                                                                       "no such metric",
		`sum by (operator) (increase(smpp_publish_errors_total[5m]))`:                                                 "groups by operator",
		`smpp_receipts_total{outcome="failed"}`:                                                                       "has no label outcome",
		`histogram_quantile(0.99, sum by (operator) (rate(smpp_submit_latency_seconds_bucket[5m])))`:                  "aggregates away le",
		`sum by (operator) (smpp_bind_state) == 0 and on (bind) sum by (operator) (smpp_operator_owner) == 1`:         "matches on bind",
		`sum by (operator) (smpp_submits_total) / on (operator) group_left (state) max by (operator) (smpp_mo_total)`: "groups in state",
	} {
		errs := strings.Join(c.check(expr), "; ")
		if want == "" && errs != "" || !strings.Contains(errs, want) {
			t.Errorf("%s: got %q, want %q", expr, errs, want)
		}
	}
}
