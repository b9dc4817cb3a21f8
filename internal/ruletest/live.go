package ruletest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/teststorage"
)

// Live evaluates a rules file over samples scraped from running processes,
// the way a Prometheus server would: each scrape is appended with its own
// timestamp (and the target's labels, up, and staleness markers for series
// that went), and the rule groups are evaluated at the times given, with
// `for:` held in real time. It records every alert that became active as an
// Episode. Safe for one scraping goroutine and concurrent readers.
type Live struct {
	mu       sync.Mutex
	ctx      context.Context
	cancel   context.CancelFunc
	st       *teststorage.TestStorage
	qe       *promql.Engine
	engine   *Engine
	last     map[string]map[string]labels.Labels // target -> series of its last scrape, by key
	episodes []*Episode
	open     map[string]*Episode // active episodes by alert key
}

// Episode is one alert (a rule and a label set) from the evaluation its
// expression first held at to the first evaluation it no longer did.
type Episode struct {
	Name   string
	Labels map[string]string // every label but alertname (severity among them)
	// Since is when its expression first held (the alert went pending);
	// FiredAt when it started firing (zero if it never did); Last the last
	// evaluation it was active at; Ended the first evaluation it was not
	// (zero while it is active).
	Since, FiredAt, Last, Ended time.Time
}

// Fired reports whether the alert reached firing: its expression held for
// the whole of its `for:`.
func (e Episode) Fired() bool { return !e.FiredAt.IsZero() }

// Active reports whether the alert was still active (pending or firing) at
// the last evaluation.
func (e Episode) Active() bool { return e.Ended.IsZero() }

// String is the episode for messages: name, labels and times.
func (e Episode) String() string {
	s := fmt.Sprintf("%s%s pending from %s", e.Name, Format(e.Labels), e.Since.Format(time.TimeOnly))
	if e.Fired() {
		s += ", firing from " + e.FiredAt.Format(time.TimeOnly)
	}
	if e.Active() {
		return s + ", active at the last evaluation (" + e.Last.Format(time.TimeOnly) + ")"
	}
	return s + ", ended " + e.Ended.Format(time.TimeOnly)
}

// Sample is one element of a query's result.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// NewLive loads file (see Options; Interval also steps subqueries without a
// step) over a fresh in-memory TSDB.
func NewLive(file string, o Options) (*Live, error) {
	st, err := teststorage.NewWithError()
	if err != nil {
		return nil, err
	}
	every := o.Interval
	if every <= 0 {
		every = time.Minute
	}
	qe := promql.NewEngine(promql.EngineOpts{MaxSamples: 50_000_000, Timeout: time.Minute,
		EnableAtModifier: true, EnableNegativeOffset: true,
		NoStepSubqueryIntervalFn: func(int64) int64 { return every.Milliseconds() }})
	ctx, cancel := context.WithCancel(context.Background())
	e, err := NewEngine(ctx, file, st, qe, o)
	if err != nil {
		cancel()
		_ = qe.Close()
		_ = st.Close()
		return nil, err
	}
	return &Live{ctx: ctx, cancel: cancel, st: st, qe: qe, engine: e,
		last: map[string]map[string]labels.Labels{}, open: map[string]*Episode{}}, nil
}

// Rules are the alerting rules evaluated.
func (l *Live) Rules() []Rule { return l.engine.Rules() }

// Close releases the storage.
func (l *Live) Close() error {
	l.cancel()
	return errors.Join(l.qe.Close(), l.st.Close())
}

// Scraped appends one scrape of target (Prometheus text exposition) taken
// at ts: every series with the target's labels added (job and instance, as
// Prometheus adds them), up = 1, and a staleness marker for each series of
// the target's previous scrape that is not in this one. An exposition that
// does not parse is a failed scrape (ScrapeFailed) and an error.
func (l *Live) Scraped(ts time.Time, target map[string]string, body []byte) error {
	series, values, err := parse(body, target)
	if err != nil {
		return errors.Join(fmt.Errorf("scrape of %s: %w", Format(target), err), l.ScrapeFailed(ts, target))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	up := upSeries(target)
	series[up.String()], values[up.String()] = up, 1
	return l.appendLocked(ts, target, series, values)
}

// ScrapeFailed records a scrape of target at ts that got no exposition:
// up = 0 and every series of its last scrape stale.
func (l *Live) ScrapeFailed(ts time.Time, target map[string]string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	up := upSeries(target)
	return l.appendLocked(ts, target, map[string]labels.Labels{up.String(): up}, map[string]float64{up.String(): 0})
}

func upSeries(target map[string]string) labels.Labels {
	b := labels.NewBuilder(labels.FromMap(target))
	b.Set(labels.MetricName, "up")
	return b.Labels()
}

func (l *Live) appendLocked(ts time.Time, target map[string]string, series map[string]labels.Labels, values map[string]float64) error {
	t := ts.UnixMilli()
	app := l.st.AppenderV2(l.ctx)
	for k, ls := range series {
		if _, err := app.Append(0, ls, 0, t, values[k], nil, nil, storage.AOptions{}); err != nil {
			_ = app.Rollback()
			return fmt.Errorf("append %s: %w", ls, err)
		}
	}
	tk := Format(target)
	stale := math.Float64frombits(value.StaleNaN)
	for k, ls := range l.last[tk] {
		if _, ok := series[k]; !ok {
			if _, err := app.Append(0, ls, 0, t, stale, nil, nil, storage.AOptions{}); err != nil {
				_ = app.Rollback()
				return fmt.Errorf("staleness marker for %s: %w", ls, err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		return err
	}
	l.last[tk] = series
	return nil
}

// parse reads an exposition into its float series (histograms and
// summaries as their _bucket, _sum, _count and quantile series), each with
// the target's labels set.
func parse(body []byte, target map[string]string) (map[string]labels.Labels, map[string]float64, error) {
	p := textparse.NewPromParser(body, labels.NewSymbolTable(), false)
	series, values := map[string]labels.Labels{}, map[string]float64{}
	var ls labels.Labels
	for {
		e, err := p.Next()
		if errors.Is(err, io.EOF) {
			return series, values, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if e != textparse.EntrySeries {
			continue
		}
		_, _, v := p.Series()
		p.Labels(&ls)
		b := labels.NewBuilder(ls)
		for k, tv := range target {
			b.Set(k, tv)
		}
		s := b.Labels()
		series[s.String()], values[s.String()] = s, v
	}
}

// Eval evaluates the rule groups at ts over what was appended up to ts,
// records the episodes and returns the alerts active after it.
func (l *Live) Eval(ts time.Time) ([]Alert, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.engine.Eval(l.ctx, ts)
	active := l.engine.Active()
	seen := map[string]bool{}
	for _, a := range active {
		k := a.Name + Format(a.Labels)
		seen[k] = true
		ep, ok := l.open[k]
		if !ok {
			ep = &Episode{Name: a.Name, Labels: a.Labels, Since: a.ActiveAt}
			l.open[k] = ep
			l.episodes = append(l.episodes, ep)
		}
		ep.Last = ts
		if a.State == "firing" && ep.FiredAt.IsZero() {
			ep.FiredAt = a.FiredAt
		}
	}
	for k, ep := range l.open {
		if !seen[k] {
			ep.Ended = ts
			delete(l.open, k)
		}
	}
	return active, err
}

// Episodes are the alerts that became active, in the order they did.
func (l *Live) Episodes() []Episode {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Episode, len(l.episodes))
	for i, e := range l.episodes {
		out[i] = *e
	}
	return out
}

// Query runs an instant PromQL query at ts over what was appended, its
// result sorted by labels (a scalar is one sample without labels).
func (l *Live) Query(ts time.Time, expr string) ([]Sample, error) {
	q, err := l.qe.NewInstantQuery(l.ctx, l.st, nil, expr, ts)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	res := q.Exec(l.ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	var out []Sample
	switch v := res.Value.(type) {
	case promql.Vector:
		for _, s := range v {
			out = append(out, Sample{Labels: s.Metric.Map(), Value: s.F})
		}
	case promql.Scalar:
		out = append(out, Sample{Value: v.V})
	default:
		return nil, fmt.Errorf("query %s: %s result, want a vector or scalar", expr, res.Value.Type())
	}
	slices.SortFunc(out, func(a, b Sample) int { return strings.Compare(Format(a.Labels), Format(b.Labels)) })
	return out, nil
}
