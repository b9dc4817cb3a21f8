// Package ruletest evaluates a Prometheus rules file over series written in
// the promqltest notation, with Prometheus' own rule manager and PromQL
// engine, the way `promtool test rules` does but from Go: a test states the
// series, the alerts and the times, and reads which alerts are firing at each
// evaluation. The rules are loaded with rules.Manager.LoadGroups (the Go rule
// engine a gate would run), so a rule this package can evaluate is one
// Prometheus loads. Live evaluates the same rules (through the same Engine)
// over metrics scraped from running processes, at the scrape timestamps,
// for the scenario gates (scenarios/framework.AlertWatch).
package ruletest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/promqltest"
)

// Rule is an alerting rule as the rule manager loaded it.
type Rule struct {
	Name   string
	Expr   string
	For    time.Duration
	Labels map[string]string
}

// Alert is an active alert at one evaluation.
type Alert struct {
	Name   string
	State  string            // "pending" or "firing"
	Labels map[string]string // every label but alertname: the expression's and the rule's
	// ActiveAt is the evaluation its expression first held at (this time);
	// FiredAt the one it started firing at (zero while pending).
	ActiveAt, FiredAt time.Time
}

// Result is what each evaluation of a Run left active.
type Result struct {
	Rules    []Rule
	Interval time.Duration
	Until    time.Duration
	steps    map[time.Duration][]Alert
}

// Rules loads the alerting rules of file, group by group (by name), each
// group's in file order.
func Rules(t testing.TB, file string) []Rule {
	t.Helper()
	e, err := NewEngine(context.Background(), file, nil, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e.Rules()
}

// Run loads file and evaluates its groups at 0, interval, 2*interval, ...
// up to until, over the series input loads (promqltest notation, starting
// with "load <step>"; time 0 is the Unix epoch, as in promtool). Alert state
// carries from one evaluation to the next, so `for:` holds as in Prometheus.
func Run(t testing.TB, file, input string, interval, until time.Duration) *Result {
	t.Helper()
	ll, err := promqltest.NewLazyLoader(input, promqltest.LazyLoaderOpts{EnableAtModifier: true, EnableNegativeOffset: true})
	if err != nil {
		t.Fatalf("series: %v", err)
	}
	t.Cleanup(func() { _ = ll.Close() })
	// A subquery without a step steps at the evaluation interval, as in
	// promtool's tests.
	ll.SubqueryInterval = interval
	e, err := NewEngine(ll.Context(), file, ll.Storage(), ll.QueryEngine(), Options{Interval: interval})
	if err != nil {
		t.Fatal(err)
	}
	res := &Result{Rules: e.Rules(), Interval: interval, Until: until, steps: map[time.Duration][]Alert{}}
	epoch := time.Unix(0, 0).UTC()
	for at := time.Duration(0); at <= until; at += interval {
		ts := epoch.Add(at)
		ll.WithSamplesTill(ts, func(err error) {
			if err != nil {
				t.Fatalf("loading the series up to %v: %v", at, err)
			}
			if err := e.Eval(ll.Context(), ts); err != nil {
				t.Fatalf("at %v: %v", at, err)
			}
		})
		res.steps[at] = e.Active()
	}
	return res
}

// Alerts are the alerts named name active at evaluation at (any state).
func (r *Result) Alerts(at time.Duration, name string) []Alert {
	var out []Alert
	for _, a := range r.steps[at] {
		if a.Name == name {
			out = append(out, a)
		}
	}
	return out
}

// Firing is the label sets of the alerts named name firing at evaluation at,
// in a stable order.
func (r *Result) Firing(at time.Duration, name string) []map[string]string {
	var out []map[string]string
	for _, a := range r.Alerts(at, name) {
		if a.State == "firing" {
			out = append(out, a.Labels)
		}
	}
	slices.SortFunc(out, func(a, b map[string]string) int { return strings.Compare(Format(a), Format(b)) })
	return out
}

// FirstFiring is the first evaluation at which name fires.
func (r *Result) FirstFiring(name string) (time.Duration, bool) {
	for at := time.Duration(0); at <= r.Until; at += r.Interval {
		if len(r.Firing(at, name)) > 0 {
			return at, true
		}
	}
	return 0, false
}

// Rule is the loaded rule named name.
func (r *Result) Rule(name string) (Rule, bool) {
	for _, rl := range r.Rules {
		if rl.Name == name {
			return rl, true
		}
	}
	return Rule{}, false
}

// Format writes a label set as {a="1", b="2"}, sorted, for messages and
// comparisons.
func Format(l map[string]string) string {
	keys := slices.Sorted(maps.Keys(l))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, l[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
