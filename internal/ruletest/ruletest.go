// Package ruletest evaluates a Prometheus rules file over series written in
// the promqltest notation, with Prometheus' own rule manager and PromQL
// engine, the way `promtool test rules` does but from Go: a test states the
// series, the alerts and the times, and reads which alerts are firing at each
// evaluation. The rules are loaded with rules.Manager.LoadGroups (the Go rule
// engine a gate would run), so a rule this package can evaluate is one
// Prometheus loads.
package ruletest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"
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
	// Prometheus' default evaluation_interval; it does not change what loads.
	groups := load(t, file, &rules.ManagerOptions{Logger: promslog.NewNopLogger(), Context: context.Background()}, time.Minute)
	var out []Rule
	for _, g := range groups {
		for _, r := range g.Rules() {
			if ar, ok := r.(*rules.AlertingRule); ok {
				out = append(out, Rule{Name: ar.Name(), Expr: ar.Query().String(), For: ar.HoldDuration(), Labels: ar.Labels().Map()})
			}
		}
	}
	return out
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
	groups := load(t, file, &rules.ManagerOptions{
		QueryFunc:    rules.EngineQueryFunc(ll.QueryEngine(), ll.Storage()),
		AppendableV2: ll.Storage(),
		Queryable:    ll.Storage(),
		Context:      ll.Context(),
		NotifyFunc:   func(context.Context, string, ...*rules.Alert) {},
		Logger:       promslog.NewNopLogger(),
	}, interval)
	res := &Result{Interval: interval, Until: until, steps: map[time.Duration][]Alert{}}
	var alerting []*rules.AlertingRule
	for _, g := range groups {
		for _, r := range g.Rules() {
			if ar, ok := r.(*rules.AlertingRule); ok {
				// As after a restore: otherwise the rule waits to restore
				// its `for` state from ALERTS_FOR_STATE and never fires here.
				ar.SetRestored(true)
				alerting = append(alerting, ar)
				res.Rules = append(res.Rules, Rule{Name: ar.Name(), Expr: ar.Query().String(), For: ar.HoldDuration(), Labels: ar.Labels().Map()})
			}
		}
	}
	epoch := time.Unix(0, 0).UTC()
	for at := time.Duration(0); at <= until; at += interval {
		ts := epoch.Add(at)
		ll.WithSamplesTill(ts, func(err error) {
			if err != nil {
				t.Fatalf("loading the series up to %v: %v", at, err)
			}
			for _, g := range groups {
				g.Eval(ll.Context(), ts)
				for _, r := range g.Rules() {
					if err := r.LastError(); err != nil {
						t.Fatalf("rule %s at %v: %v", r.Name(), at, err)
					}
				}
			}
		})
		for _, ar := range alerting {
			for _, a := range ar.ActiveAlerts() {
				l := a.Labels.Map()
				delete(l, labels.AlertName)
				res.steps[at] = append(res.steps[at], Alert{Name: ar.Name(), State: a.State.String(), Labels: l})
			}
		}
	}
	return res
}

// load reads file's groups with the rule manager, interval being the
// evaluation interval of a group that sets none. Unknown fields are refused,
// as Prometheus refuses them.
func load(t testing.TB, file string, opts *rules.ManagerOptions, interval time.Duration) []*rules.Group {
	t.Helper()
	m := rules.NewManager(opts)
	groups, errs := m.LoadGroups(interval, labels.EmptyLabels(), "", nil, false, file)
	if len(errs) > 0 {
		t.Fatalf("loading %s: %v", file, errs)
	}
	// LoadGroups keys groups by file and name: a stable order (by name) keeps
	// runs repeatable. Prometheus runs groups independently, so no rule
	// depends on the order of groups.
	out := slices.Collect(maps.Values(groups))
	slices.SortFunc(out, func(a, b *rules.Group) int { return strings.Compare(a.Name(), b.Name()) })
	return out
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
