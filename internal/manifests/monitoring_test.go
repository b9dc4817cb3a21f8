package manifests

import (
	"bytes"
	iofs "io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// prometheus-operator's kinds, decoded into the fields of its CRDs
// (monitoring.coreos.com/v1) that the component uses: k8s.io/api has no
// types for them, and the operator's Go module would pull in
// controller-runtime for two structs. Strict decoding still fails on a
// field these structs do not have, so a misspelled or misplaced field (the
// kind of error the API server would reject or, for a CRD, silently prune)
// fails here; a field the CRD has and the component needs is added below.
const monitoringV1 = "monitoring.coreos.com/v1"

type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector *struct {
			Any        bool     `json:"any,omitempty"`
			MatchNames []string `json:"matchNames,omitempty"`
		} `json:"namespaceSelector,omitempty"`
		Endpoints []struct {
			Port          string `json:"port,omitempty"`
			Path          string `json:"path,omitempty"`
			Scheme        string `json:"scheme,omitempty"`
			Interval      string `json:"interval,omitempty"`
			ScrapeTimeout string `json:"scrapeTimeout,omitempty"`
			HonorLabels   bool   `json:"honorLabels,omitempty"`
		} `json:"endpoints"`
	} `json:"spec"`
}

type prometheusRule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Groups []ruleGroup `json:"groups"`
	} `json:"spec"`
}

// ruleGroup is a rule group as both Prometheus' rule files and the
// PrometheusRule CRD spell it.
type ruleGroup struct {
	Name     string `json:"name"`
	Interval string `json:"interval,omitempty"`
	Rules    []struct {
		Record        string            `json:"record,omitempty"`
		Alert         string            `json:"alert,omitempty"`
		Expr          string            `json:"expr"`
		For           string            `json:"for,omitempty"`
		KeepFiringFor string            `json:"keep_firing_for,omitempty"`
		Labels        map[string]string `json:"labels,omitempty"`
		Annotations   map[string]string `json:"annotations,omitempty"`
	} `json:"rules"`
}

const (
	alertsFile      = "../../deploy/alerts.yaml"
	componentDir    = root + "/components/prometheus-operator"
	promRuleFile    = componentDir + "/prometheusrule.yaml"
	promRuleHeader  = "# Generated from deploy/alerts.yaml by `go test ./internal/manifests -run TestPrometheusRule -update`: edit\n# deploy/alerts.yaml and regenerate, do not edit. The comments are the rule file's.\n"
	promRuleObjHead = "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: smpp-connector\n  labels:\n    app.kubernetes.io/name: smpp-connector\nspec:\n"
)

// promRuleText is the PrometheusRule for deploy/alerts.yaml: its groups,
// comments and all, indented under spec.
func promRuleText(t *testing.T) []byte {
	t.Helper()
	raw, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	_, groups, ok := bytes.Cut(raw, []byte("\ngroups:"))
	if !ok {
		t.Fatalf("%s has no top-level groups:", alertsFile)
	}
	var out bytes.Buffer
	out.WriteString(promRuleHeader + promRuleObjHead)
	for _, l := range strings.SplitAfter("groups:"+string(groups), "\n") {
		if strings.TrimSpace(l) != "" {
			out.WriteString("  ")
		}
		out.WriteString(l)
	}
	return out.Bytes()
}

// The PrometheusRule is deploy/alerts.yaml: the checked-in file is the
// generator's, and its groups decode to the rule file's, so the two cannot
// drift and the operator's users get every alert the rule tests cover.
func TestPrometheusRule(t *testing.T) {
	want := promRuleText(t)
	if *update {
		if err := os.WriteFile(promRuleFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(promRuleFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not deploy/alerts.yaml: regenerate it with\n  go test ./internal/manifests -run TestPrometheusRule -update", promRuleFile)
	}
	var pr prometheusRule
	if err := yaml.UnmarshalStrict(got, &pr); err != nil {
		t.Fatalf("%s: %v", promRuleFile, err)
	}
	raw, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []ruleGroup `json:"groups"`
	}
	if err := yaml.UnmarshalStrict(raw, &rules); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	if len(rules.Groups) == 0 || len(rules.Groups[0].Rules) < 10 {
		t.Fatalf("%s: %d groups: the decoding lost the rules", alertsFile, len(rules.Groups))
	}
	if !reflect.DeepEqual(pr.Spec.Groups, rules.Groups) {
		t.Errorf("the PrometheusRule's groups are not deploy/alerts.yaml's")
	}
}

// withPrometheusOperator builds the overlay with the component added the way
// README.md tells: a `components:` entry in the overlay's kustomization (so
// that the overlay's namespace applies to it too). It edits a copy of
// deploy/ in memory.
func withPrometheusOperator(t *testing.T, overlay string) built {
	t.Helper()
	fs := filesys.MakeFsInMemory()
	deploy := filepath.Dir(root)
	err := filepath.WalkDir(deploy, func(p string, d iofs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(deploy, p)
		return fs.WriteFile(filepath.Join("/deploy", rel), data)
	})
	if err != nil {
		t.Fatal(err)
	}
	k := filepath.Join("/deploy/kubernetes/overlays", overlay, "kustomization.yaml")
	data, err := fs.ReadFile(k)
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, "components:\n  - ../../components/prometheus-operator\n"...)
	if err := fs.WriteFile(k, data); err != nil {
		t.Fatal(err)
	}
	return buildFs(t, overlay+"+prometheus-operator", fs, filepath.Dir(k))
}

// Every overlay takes the component; its objects decode strictly, land in
// the overlay's namespace, and the ServiceMonitor scrapes exactly the metrics
// Service, on its port, at /metrics. Without the component no overlay needs
// prometheus-operator's CRDs.
func TestPrometheusOperatorComponent(t *testing.T) {
	for _, o := range overlays {
		t.Run(o.name, func(t *testing.T) {
			if plain := build(t, o.name); len(plain.serviceMonitors)+len(plain.promRules) > 0 {
				t.Errorf("overlays/%s has prometheus-operator objects without the component", o.name)
			}
			b := withPrometheusOperator(t, o.name)
			if len(b.namespaceSet) != 1 || b.namespaceSet[""] {
				t.Errorf("objects in namespaces %v: want the overlay's one", b.namespaceSet)
			}
			if b.promRules["smpp-connector"] == nil {
				t.Error("no PrometheusRule smpp-connector")
			}
			sm := b.serviceMonitors["smpp-connector"]
			if sm == nil {
				t.Fatal("no ServiceMonitor smpp-connector")
			}
			sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
			if err != nil || sel.Empty() {
				t.Fatalf("ServiceMonitor selector %+v: %v", sm.Spec.Selector, err)
			}
			var selected []string
			for name, svc := range b.services {
				if sel.Matches(labels.Set(svc.Labels)) {
					selected = append(selected, name)
				}
			}
			if len(selected) != 1 || selected[0] != "smpp-connector-metrics" {
				t.Fatalf("the ServiceMonitor selects Services %v, want only smpp-connector-metrics", selected)
			}
			if ns := sm.Spec.NamespaceSelector; ns != nil && (ns.Any || len(ns.MatchNames) > 0) {
				t.Errorf("the ServiceMonitor looks beyond its own namespace: %+v", ns)
			}
			svc := b.services["smpp-connector-metrics"]
			if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != svc.Spec.Ports[0].Name || sm.Spec.Endpoints[0].Path != "/metrics" {
				t.Errorf("ServiceMonitor endpoints %+v: want one, port %q, path /metrics", sm.Spec.Endpoints, svc.Spec.Ports[0].Name)
			}
		})
	}
}
