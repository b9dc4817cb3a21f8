package metrics

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"
)

// names returns the name of every metric the connector registers.
func names(t *testing.T) []string {
	m := New()
	m.ObserveStore(func() StoreStats { return StoreStats{} })
	ch := make(chan *prometheus.Desc, 256)
	v := reflect.ValueOf(m).Elem()
	for i := range v.NumField() {
		if c, ok := v.Field(i).Interface().(prometheus.Collector); ok && v.Type().Field(i).Name != "Registry" {
			c.Describe(ch)
		}
	}
	m.Registry.Describe(ch)
	close(ch)
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	var out []string
	for d := range ch {
		if g := fq.FindStringSubmatch(d.String()); g != nil {
			out = append(out, g[1])
		}
	}
	return out
}

// The alert rules shipped in deploy/ name only metrics the connector has, so
// a renamed metric cannot silently disarm an alert.
func TestAlertRulesUseExistingMetrics(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert       string
				Expr        string
				Labels      map[string]string
				Annotations map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		t.Fatalf("deploy/alerts.yaml: %v", err)
	}
	have := names(t)
	metric := regexp.MustCompile(`\bsmpp_[a-z0-9_]+`)
	rules := 0
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			rules++
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
	if rules < 10 {
		t.Fatalf("%d rules read: the file did not parse as expected", rules)
	}
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
