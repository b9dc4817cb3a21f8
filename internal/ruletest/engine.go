package ruletest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
)

// Options say how a rules file is loaded into an Engine.
type Options struct {
	// Interval is the evaluation interval of a group that sets none
	// (default: Prometheus' 1m). It changes nothing when groups are evaluated
	// by hand (Engine.Eval), only what the groups report.
	Interval time.Duration
	// CapFor, when positive, evaluates a copy of the rules in which every
	// alert's `for:` is at most CapFor (the file is not changed). It is for a
	// test that must see a rule fire within its own run, shorter than the
	// rule's hold: the expression and labels are the file's, only the time an
	// alert stays pending is shortened. Zero evaluates the file as written.
	CapFor time.Duration
}

// Engine is the groups of a rules file as Prometheus' rule manager loads
// them, over one storage: evaluating a group queries the storage with the
// PromQL engine given and appends the ALERTS series to it, as Prometheus
// does. Both Run (series in promqltest notation) and Live (series scraped
// from running processes) evaluate through one.
type Engine struct {
	groups   []*rules.Group
	alerting []*rules.AlertingRule
	rules    []Rule
}

// NewEngine loads file's groups (by name, each group's rules in file order)
// over st, querying it with qe. Unknown fields are refused, as Prometheus
// refuses them. Every alerting rule starts as after a restore: otherwise it
// waits to restore its `for` state from ALERTS_FOR_STATE and never fires.
func NewEngine(ctx context.Context, file string, st storage.Storage, qe promql.QueryEngine, o Options) (*Engine, error) {
	opts := &rules.ManagerOptions{Context: ctx, Logger: promslog.NewNopLogger()}
	if st != nil {
		opts.QueryFunc = rules.EngineQueryFunc(qe, st)
		opts.AppendableV2, opts.Queryable = st, st
		opts.NotifyFunc = func(context.Context, string, ...*rules.Alert) {}
	}
	groups, err := loadGroups(file, opts, o)
	if err != nil {
		return nil, err
	}
	e := &Engine{groups: groups}
	for _, g := range groups {
		for _, r := range g.Rules() {
			if ar, ok := r.(*rules.AlertingRule); ok {
				ar.SetRestored(true)
				e.alerting = append(e.alerting, ar)
				e.rules = append(e.rules, Rule{Name: ar.Name(), Expr: ar.Query().String(), For: ar.HoldDuration(), Labels: ar.Labels().Map()})
			}
		}
	}
	return e, nil
}

// Rules are the alerting rules loaded (with `for:` as evaluated: capped
// when Options.CapFor is set).
func (e *Engine) Rules() []Rule { return slices.Clone(e.rules) }

// Eval evaluates every group at ts, in order; alert state carries from one
// evaluation to the next, so `for:` holds as in Prometheus. It returns the
// errors of the rules that failed.
func (e *Engine) Eval(ctx context.Context, ts time.Time) error {
	var errs []error
	for _, g := range e.groups {
		g.Eval(ctx, ts)
		for _, r := range g.Rules() {
			if err := r.LastError(); err != nil {
				errs = append(errs, fmt.Errorf("rule %s: %w", r.Name(), err))
			}
		}
	}
	return errors.Join(errs...)
}

// Active is the alerts active (pending or firing) after the last Eval, rule
// by rule.
func (e *Engine) Active() []Alert {
	var out []Alert
	for _, ar := range e.alerting {
		for _, a := range ar.ActiveAlerts() {
			l := a.Labels.Map()
			delete(l, labels.AlertName)
			out = append(out, Alert{Name: ar.Name(), State: a.State.String(), Labels: l, ActiveAt: a.ActiveAt, FiredAt: a.FiredAt})
		}
	}
	return out
}

// loadGroups reads file's groups with the rule manager, sorted by name:
// LoadGroups keys them by file and name, and a stable order keeps runs
// repeatable (Prometheus runs groups independently, so no rule depends on
// the order of groups).
func loadGroups(file string, opts *rules.ManagerOptions, o Options) ([]*rules.Group, error) {
	if o.CapFor > 0 {
		opts.GroupLoader = capForLoader{max: model.Duration(o.CapFor), parser: parser.NewParser(parser.Options{}), log: opts.Logger}
	}
	if o.Interval <= 0 {
		o.Interval = time.Minute
	}
	m := rules.NewManager(opts)
	groups, errs := m.LoadGroups(o.Interval, labels.EmptyLabels(), "", nil, false, file)
	if len(errs) > 0 {
		return nil, fmt.Errorf("loading %s: %w", file, errors.Join(errs...))
	}
	out := slices.Collect(maps.Values(groups))
	slices.SortFunc(out, func(a, b *rules.Group) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// capForLoader is the rule manager's file loader, with every alert's `for:`
// capped at max once the file is parsed (and checked) as written.
type capForLoader struct {
	max    model.Duration
	parser parser.Parser
	log    *slog.Logger
}

func (l capForLoader) Load(file string, ignoreUnknownFields bool, scheme model.ValidationScheme) (*rulefmt.RuleGroups, []error) {
	rgs, errs := rulefmt.ParseFile(file, ignoreUnknownFields, scheme, l.parser, l.log)
	if rgs != nil {
		for i := range rgs.Groups {
			for j := range rgs.Groups[i].Rules {
				r := &rgs.Groups[i].Rules[j]
				r.For = min(r.For, l.max)
			}
		}
	}
	return rgs, errs
}

func (l capForLoader) Parse(query string) (parser.Expr, error) { return l.parser.ParseExpr(query) }
