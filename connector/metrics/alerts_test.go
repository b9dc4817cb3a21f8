package metrics

import (
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"gopkg.in/yaml.v3"
)

// names returns the name of every metric the connector registers.
func names(t *testing.T) []string {
	return slices.Sorted(maps.Keys(registered(t)))
}

// family is what a registered metric offers a query: its labels (those the
// connector sets; Prometheus adds the target's) and its type, which says
// under which series names it is exposed (a histogram as _bucket, _sum and
// _count).
type family struct {
	labels []string
	kind   dto.MetricType
}

// registered describes every metric the connector registers, by name: the
// fields of Metrics (their types from the fields' Go types, since a vector
// without children gathers nothing) and what the registry holds besides
// (the store's counters, the Go and process collectors, gathered).
func registered(t *testing.T) map[string]family {
	t.Helper()
	m := New()
	m.ObserveStore(func() StoreStats { return StoreStats{} })
	out := map[string]family{}
	describe := func(c prometheus.Collector, kind dto.MetricType) {
		ch := make(chan *prometheus.Desc, 256)
		c.Describe(ch)
		close(ch)
		for d := range ch {
			if name, labels := descName(t, d); out[name].kind == 0 || kind != dto.MetricType_UNTYPED {
				out[name] = family{labels: labels, kind: kind}
			}
		}
	}
	v := reflect.ValueOf(m).Elem()
	for i := range v.NumField() {
		if c, ok := v.Field(i).Interface().(prometheus.Collector); ok && v.Type().Field(i).Name != "Registry" {
			kind := dto.MetricType_UNTYPED
			switch c.(type) {
			case *prometheus.CounterVec, prometheus.Counter:
				kind = dto.MetricType_COUNTER
			case *prometheus.GaugeVec, prometheus.Gauge:
				kind = dto.MetricType_GAUGE
			case *prometheus.HistogramVec, prometheus.Histogram:
				kind = dto.MetricType_HISTOGRAM
			case *prometheus.SummaryVec, prometheus.Summary:
				kind = dto.MetricType_SUMMARY
			}
			describe(c, kind)
		}
	}
	// The rest are not vectors: gathering gives their series and types.
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if _, ok := out[f.GetName()]; ok || len(f.GetMetric()) == 0 {
			continue
		}
		var labels []string
		for _, l := range f.GetMetric()[0].GetLabel() {
			labels = append(labels, l.GetName())
		}
		out[f.GetName()] = family{labels: labels, kind: f.GetType()}
	}
	// Whatever registered and gathered nothing still has a name.
	describe(m.Registry, dto.MetricType_UNTYPED)
	return out
}

// descName reads a Desc's name and labels from its String(), the only
// place client_golang shows them.
func descName(t *testing.T, d *prometheus.Desc) (string, []string) {
	t.Helper()
	g := descRE.FindStringSubmatch(d.String())
	if g == nil {
		t.Fatalf("cannot read %s", d)
	}
	var labels []string
	for _, c := range constLabelRE.FindAllStringSubmatch(g[2], -1) { // name="value",...
		labels = append(labels, c[1])
	}
	for l := range strings.SplitSeq(g[3], ",") { // name,c(name),...
		if l != "" {
			labels = append(labels, strings.TrimSuffix(strings.TrimPrefix(l, "c("), ")"))
		}
	}
	return g[1], labels
}

var (
	descRE       = regexp.MustCompile(`^Desc\{fqName: "([^"]+)",.* constLabels: \{(.*)\}, variableLabels: \{(.*)\}\}$`)
	constLabelRE = regexp.MustCompile(`(?:^|,)([a-zA-Z_][a-zA-Z0-9_]*)="`)
)

// rule is an alerting rule of deploy/alerts.yaml.
type rule struct {
	Alert       string
	Expr        string
	Labels      map[string]string
	Annotations map[string]string
}

// alertRules reads deploy/alerts.yaml.
func alertRules(t *testing.T) []rule {
	t.Helper()
	raw, err := os.ReadFile("../../deploy/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Name  string
			Rules []rule
		}
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		t.Fatalf("deploy/alerts.yaml: %v", err)
	}
	var rules []rule
	for _, g := range file.Groups {
		rules = append(rules, g.Rules...)
	}
	if len(rules) < 10 {
		t.Fatalf("%d rules read: the file did not parse as expected", len(rules))
	}
	return rules
}

// The alert rules shipped in deploy/ name only metrics the connector has, so
// a renamed metric cannot silently disarm an alert.
func TestAlertRulesUseExistingMetrics(t *testing.T) {
	have := names(t)
	metric := regexp.MustCompile(`\bsmpp_[a-z0-9_]+`)
	for _, r := range alertRules(t) {
		if r.Alert == "" || strings.TrimSpace(r.Expr) == "" || r.Annotations["summary"] == "" {
			t.Errorf("rule %+v: alert, expr and a summary are required", r)
		}
		if s := r.Labels["severity"]; s != "critical" && s != "warning" {
			t.Errorf("%s: severity %q, want critical or warning", r.Alert, s)
		}
		for _, name := range metric.FindAllString(r.Expr, -1) {
			base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
			if !slices.Contains(have, name) && !slices.Contains(have, base) {
				t.Errorf("%s: metric %s does not exist", r.Alert, name)
			}
		}
	}
}

// increase() never sees the first event of a series born at 1. An alert on
// the increase of a counter series that Prepare does not create at 0 (a
// receipt result that is rare, an operator no replica knows) must also
// catch the series' birth, as `m unless m offset W`: without it the first
// unreadable receipt, or the first command for an unknown operator, would
// not alert.
func TestAlertsSeeTheFirstEventOfACounter(t *testing.T) {
	m := New()
	m.ObserveStore(func() StoreStats { return StoreStats{} })
	m.Prepare("mno-x")
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	prepared := map[string][]map[string]string{} // metric -> label sets at 0
	for _, f := range families {
		for _, s := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range s.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			prepared[f.GetName()] = append(prepared[f.GetName()], labels)
		}
	}
	increase := regexp.MustCompile(`increase\((smpp_[a-z0-9_]+)(\{[^}]*\})?\[`)
	matcher := regexp.MustCompile(`(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"`)
	for _, r := range alertRules(t) {
		for _, g := range increase.FindAllStringSubmatch(r.Expr, -1) {
			name, selector := g[1], g[2]
			matches := func(labels map[string]string) bool {
				for _, mt := range matcher.FindAllStringSubmatch(selector, -1) {
					v, ok := labels[mt[1]], false
					switch mt[2] {
					case "=":
						ok = v == mt[3]
					case "!=":
						ok = v != mt[3]
					case "=~":
						ok = regexp.MustCompile("^(?:" + mt[3] + ")$").MatchString(v)
					case "!~":
						ok = !regexp.MustCompile("^(?:" + mt[3] + ")$").MatchString(v)
					}
					if !ok {
						return false
					}
				}
				return true
			}
			if slices.ContainsFunc(prepared[name], matches) {
				continue
			}
			sel := regexp.QuoteMeta(name + selector)
			birth := regexp.MustCompile(sel + `\s+unless\s+` + sel + `\s+offset\s`)
			if !birth.MatchString(r.Expr) {
				t.Errorf("%s: increase(%s%s) misses a series' first event: Prepare creates none at 0; "+
					"add `or sum by (...) (%s%s unless %[2]s%[3]s offset W) > 0`", r.Alert, name, selector, name, selector)
			}
		}
	}
}

// The SQL that SMPPReceiptsSetAside gives the on-call engineer is the one
// the README explains, word for word (the README's for operator mno-a).
func TestSetAsideSQLIsTheREADMEs(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	words := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for _, r := range alertRules(t) {
		if r.Alert != "SMPPReceiptsSetAside" {
			continue
		}
		d := r.Annotations["description"]
		i, j := strings.Index(d, "WITH back AS"), strings.LastIndex(d, ";")
		if i < 0 || j < i {
			t.Fatalf("SMPPReceiptsSetAside: no SQL in its description: %q", d)
		}
		sql := words(strings.ReplaceAll(d[i:j+1], "{{ $labels.operator }}", "mno-a"))
		if !strings.Contains(words(string(readme)), sql) {
			t.Errorf("README.md does not give SMPPReceiptsSetAside's SQL:\n%s", sql)
		}
		return
	}
	t.Fatal("no SMPPReceiptsSetAside rule")
}

// Prepare makes the alerting counters exist at 0 before their first event.
func TestPrepareCreatesAlertingSeriesAtZero(t *testing.T) {
	m := New()
	m.Prepare("mno-x")
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range families {
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "operator" && l.GetValue() == "mno-x" {
					seen[f.GetName()] = true
				}
			}
		}
	}
	for _, name := range []string{"smpp_submits_total", "smpp_receipts_total", "smpp_commands_total", "smpp_mo_incomplete_total",
		"smpp_consumer_failures_total", "smpp_operator_owner"} {
		if !seen[name] {
			t.Errorf("%s has no series for the operator", name)
		}
	}
}
