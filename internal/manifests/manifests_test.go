// Package manifests tests the connector's Kubernetes manifests without a
// cluster: every overlay builds with kustomize, every object decodes strictly
// into its k8s.io/api type, the invariants of each phase hold, and the
// checked-in NetworkPolicies are what `smpp-connector netpol` gives for the
// overlays' operators files. The setup Jobs (setup_test.go), the
// prometheus-operator component (monitoring_test.go) and the Vault policy and
// role (vault_test.go) are tested beside them.
//
// Regenerate the NetworkPolicies after changing an operators file, and the
// PrometheusRule after changing deploy/alerts.yaml:
//
//	go test ./internal/manifests -run 'TestNetworkPolicies|TestPrometheusRule' -update
package manifests

import (
	"bytes"
	"context"
	"flag"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/netpol"
	"github.com/smpp-connector/smpp-connector/connector/relay"
)

// root is the manifests' directory.
const root = "../../deploy/kubernetes"

var update = flag.Bool("update", false, "rewrite the generated files: the overlays' NetworkPolicies and the PrometheusRule")

// overlay is one phase's overlay and what must hold for it.
type overlay struct {
	name      string
	replicas  int32
	shadow    bool
	operators string   // its operators file, relative to this directory
	netpol    []string // the netpol flags its NetworkPolicy is generated with
}

// The peers every policy allows: in-cluster NATS, PostgreSQL and Vault by
// their usual Helm chart labels. Change them here and regenerate.
var commonPeers = []string{
	"-nats", "pod:nats/app.kubernetes.io/name=nats:4222",
	"-postgres", "pod:postgres/app.kubernetes.io/name=postgresql:5432",
	"-vault", "pod:vault/app.kubernetes.io/name=vault:8200",
}

var overlays = []overlay{
	{name: "staging", replicas: 1, operators: "overlays/staging/operators.yaml",
		netpol: append([]string{"-in-cluster", "smscsim=pod:smpp-staging/app.kubernetes.io/name=smscsim"}, commonPeers...)},
	{name: "production-shadow", replicas: 1, shadow: true, operators: "base/operators.yaml",
		netpol: append([]string{"-shadow"}, commonPeers...)},
	{name: "production", replicas: 2, operators: "base/operators.yaml", netpol: commonPeers},
}

// generate runs the netpol command's code for the overlay's operators file.
func generate(t *testing.T, o overlay) []byte {
	t.Helper()
	var opts netpol.Options
	fs := flag.NewFlagSet("netpol", flag.ContinueOnError)
	opts.Register(fs)
	if err := fs.Parse(append([]string{"-operators", filepath.Join(root, o.operators)}, o.netpol...)); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := netpol.Run(context.Background(), opts, &out); err != nil {
		t.Fatalf("%s: %v", o.name, err)
	}
	return out.Bytes()
}

// The checked-in policies are the generator's: no drift.
func TestNetworkPolicies(t *testing.T) {
	for _, o := range overlays {
		want := generate(t, o)
		path := filepath.Join(root, "overlays", o.name, "networkpolicy.yaml")
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what `smpp-connector netpol %s` gives for %s: regenerate it with\n"+
				"  go test ./internal/manifests -run TestNetworkPolicies -update\nwant:\n%s",
				path, strings.Join(o.netpol, " "), o.operators, want)
		}
	}
}

// built is one overlay's output, decoded.
type built struct {
	deployments map[string]*appsv1.Deployment
	jobs        map[string]*batchv1.Job
	configMaps  map[string]*corev1.ConfigMap
	secrets     map[string]*corev1.Secret
	services    map[string]*corev1.Service
	accounts    map[string]*corev1.ServiceAccount
	pdbs        map[string]*policyv1.PodDisruptionBudget
	netpols     map[string]*networkingv1.NetworkPolicy
	// prometheus-operator's kinds (components/prometheus-operator).
	serviceMonitors map[string]*serviceMonitor
	promRules       map[string]*prometheusRule
	namespaceSet    map[string]bool
}

// build runs kustomize on the overlay and decodes every object strictly.
func build(t *testing.T, name string) built {
	t.Helper()
	return buildFs(t, name, filesys.MakeFsOnDisk(), filepath.Join(root, "overlays", name))
}

// buildFs runs kustomize on dir of fs (named name in errors).
func buildFs(t *testing.T, name string, fs filesys.FileSystem, dir string) built {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(fs, dir)
	if err != nil {
		t.Fatalf("kustomize build overlays/%s: %v", name, err)
	}
	b := built{deployments: map[string]*appsv1.Deployment{}, jobs: map[string]*batchv1.Job{},
		configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{},
		services: map[string]*corev1.Service{}, accounts: map[string]*corev1.ServiceAccount{},
		pdbs: map[string]*policyv1.PodDisruptionBudget{}, netpols: map[string]*networkingv1.NetworkPolicy{},
		serviceMonitors: map[string]*serviceMonitor{}, promRules: map[string]*prometheusRule{},
		namespaceSet: map[string]bool{}}
	for _, r := range m.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		kind := r.GetKind()
		var obj interface{ GetName() string }
		var gv string
		switch kind {
		case "Deployment":
			x := &appsv1.Deployment{}
			b.deployments[r.GetName()], obj, gv = x, x, "apps/v1"
		case "Job":
			x := &batchv1.Job{}
			b.jobs[r.GetName()], obj, gv = x, x, "batch/v1"
		case "ConfigMap":
			x := &corev1.ConfigMap{}
			b.configMaps[r.GetName()], obj, gv = x, x, "v1"
		case "Secret":
			x := &corev1.Secret{}
			b.secrets[r.GetName()], obj, gv = x, x, "v1"
		case "Service":
			x := &corev1.Service{}
			b.services[r.GetName()], obj, gv = x, x, "v1"
		case "ServiceAccount":
			x := &corev1.ServiceAccount{}
			b.accounts[r.GetName()], obj, gv = x, x, "v1"
		case "PodDisruptionBudget":
			x := &policyv1.PodDisruptionBudget{}
			b.pdbs[r.GetName()], obj, gv = x, x, "policy/v1"
		case "NetworkPolicy":
			x := &networkingv1.NetworkPolicy{}
			b.netpols[r.GetName()], obj, gv = x, x, "networking.k8s.io/v1"
		case "ServiceMonitor":
			x := &serviceMonitor{}
			b.serviceMonitors[r.GetName()], obj, gv = x, x, monitoringV1
		case "PrometheusRule":
			x := &prometheusRule{}
			b.promRules[r.GetName()], obj, gv = x, x, monitoringV1
		default:
			t.Fatalf("overlays/%s: %s %s: no decoder for this kind: add one to the test", name, kind, r.GetName())
		}
		if err := yaml.UnmarshalStrict(y, obj); err != nil {
			t.Fatalf("overlays/%s: %s %s does not decode strictly: %v\n%s", name, kind, r.GetName(), err, y)
		}
		if r.GetApiVersion() != gv {
			t.Errorf("overlays/%s: %s %s: apiVersion %s, want %s", name, kind, r.GetName(), r.GetApiVersion(), gv)
		}
		b.namespaceSet[r.GetNamespace()] = true
	}
	return b
}

// runtimeEnv are variables Go's runtime reads (GOGC also tunes the
// connector's default GC percent, cmd/smpp-connector).
var runtimeEnv = []string{"GOMEMLIMIT", "GOGC"}

func TestOverlays(t *testing.T) {
	known := append(config.EnvNames(), runtimeEnv...)
	for _, o := range overlays {
		t.Run(o.name, func(t *testing.T) {
			b := build(t, o.name)
			if len(b.namespaceSet) != 1 || b.namespaceSet[""] {
				t.Errorf("objects in namespaces %v: want one, set by the overlay", b.namespaceSet)
			}
			d := b.deployments["smpp-connector"]
			if d == nil {
				t.Fatal("no Deployment smpp-connector")
			}
			if d.Spec.Replicas == nil || *d.Spec.Replicas != o.replicas {
				t.Errorf("replicas %v, want %d", d.Spec.Replicas, o.replicas)
			}
			pod := d.Spec.Template.Spec
			checkPodSecurity(t, "Deployment smpp-connector", pod)
			if pod.ServiceAccountName == "" || b.accounts[pod.ServiceAccountName] == nil {
				t.Errorf("ServiceAccount %q is not in the overlay", pod.ServiceAccountName)
			}
			c := container(t, pod, "smpp-connector")
			env := envOf(t, c, known)

			// Probes on the port SMPP_HTTP_LISTEN gives.
			_, port, err := net.SplitHostPort(env["SMPP_HTTP_LISTEN"])
			if err != nil {
				t.Fatalf("SMPP_HTTP_LISTEN %q: %v", env["SMPP_HTTP_LISTEN"], err)
			}
			httpPort, _ := strconv.Atoi(port)
			for _, p := range []struct {
				name, path string
				probe      *corev1.Probe
			}{{"liveness", "/healthz", c.LivenessProbe}, {"readiness", "/readyz", c.ReadinessProbe}} {
				if p.probe == nil || p.probe.HTTPGet == nil {
					t.Errorf("no HTTP %s probe", p.name)
					continue
				}
				if p.probe.HTTPGet.Path != p.path {
					t.Errorf("%s probe on %s, want %s", p.name, p.probe.HTTPGet.Path, p.path)
				}
				if got := portNumber(c, p.probe.HTTPGet.Port.String()); got != httpPort {
					t.Errorf("%s probe on port %d, want %d (SMPP_HTTP_LISTEN)", p.name, got, httpPort)
				}
			}
			svc := b.services["smpp-connector-metrics"]
			if svc == nil || len(svc.Spec.Ports) != 1 || portNumber(c, svc.Spec.Ports[0].TargetPort.String()) != httpPort {
				t.Errorf("the metrics Service does not target port %d: %+v", httpPort, svc)
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("resources: %+v", c.Resources)
			}

			// Shadow mode in production-shadow only.
			shadow, err := strconv.ParseBool(cmpOr(env["SMPP_SHADOW"], "false"))
			if err != nil || shadow != o.shadow {
				t.Errorf("SMPP_SHADOW %q, want %v", env["SMPP_SHADOW"], o.shadow)
			}

			// The operators file is mounted where SMPP_OPERATORS_FILE says,
			// is the overlay's, and loads.
			data := operatorsFile(t, b, pod, c, env["SMPP_OPERATORS_FILE"])
			want, err := os.ReadFile(filepath.Join(root, o.operators))
			if err != nil {
				t.Fatal(err)
			}
			if data != string(want) {
				t.Errorf("the ConfigMap's operators file is not %s", o.operators)
			}
			path := filepath.Join(t.TempDir(), "operators.yaml")
			if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
				t.Fatal(err)
			}
			ops, err := config.Load(path)
			if err != nil {
				t.Fatalf("the ConfigMap's operators file: %v", err)
			}
			checkGracePeriod(t, pod, ops)

			// Two replicas never on one node.
			if o.replicas > 1 {
				aa := pod.Affinity
				if aa == nil || aa.PodAntiAffinity == nil || len(aa.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) != 1 ||
					aa.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].TopologyKey != "kubernetes.io/hostname" {
					t.Errorf("%d replicas without a required pod anti-affinity across nodes: %+v", o.replicas, aa)
				}
			}

			// The migration Job runs `migrate` with the same database.
			j := b.jobs["smpp-connector-migrate"]
			if j == nil {
				t.Fatal("no migration Job")
			}
			checkPodSecurity(t, "Job smpp-connector-migrate", j.Spec.Template.Spec)
			jc := container(t, j.Spec.Template.Spec, "migrate")
			if !slices.Equal(jc.Args, []string{"migrate"}) || jc.Image != c.Image {
				t.Errorf("migration Job runs %s %v, want %s migrate", jc.Image, jc.Args, c.Image)
			}
			jenv := envOf(t, jc, known)
			if _, ok := jenv["SMPP_POSTGRES_DSN"]; !ok {
				t.Error("the migration Job has no SMPP_POSTGRES_DSN")
			}
			if c.Image != "smpp-connector:latest" {
				t.Errorf("image %q", c.Image)
			}

			// The PDB and the NetworkPolicy select the connector's pods.
			for name, sel := range map[string]map[string]string{
				"PodDisruptionBudget": selector(b.pdbs["smpp-connector"]),
				"NetworkPolicy":       policySelector(b.netpols["smpp-connector"]),
			} {
				if len(sel) == 0 {
					t.Errorf("no %s smpp-connector", name)
				}
				for k, v := range sel {
					if d.Spec.Template.Labels[k] != v {
						t.Errorf("%s selects %s=%s, which the pods do not have (%v)", name, k, v, d.Spec.Template.Labels)
					}
				}
			}
			if o.name == "staging" {
				checkSimulator(t, b)
			}
			checkDashboard(t, b)
		})
	}
}

// checkDashboard: the overlay ships deploy/grafana's dashboard as is, in a
// ConfigMap Grafana's sidecar picks up, under a name that does not change
// with its content (a hashed one would leave a duplicate behind).
func checkDashboard(t *testing.T, b built) {
	t.Helper()
	cm := b.configMaps["smpp-connector-dashboard"]
	if cm == nil {
		t.Fatal("no ConfigMap smpp-connector-dashboard (the Grafana dashboard)")
	}
	if cm.Labels["grafana_dashboard"] != "1" {
		t.Errorf("the dashboard's ConfigMap has labels %v, want grafana_dashboard=1", cm.Labels)
	}
	want, err := os.ReadFile("../../deploy/grafana/smpp-connector.json")
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["smpp-connector.json"] != string(want) {
		t.Error("the dashboard's ConfigMap does not hold deploy/grafana/smpp-connector.json")
	}
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func selector(p *policyv1.PodDisruptionBudget) map[string]string {
	if p == nil || p.Spec.Selector == nil {
		return nil
	}
	return p.Spec.Selector.MatchLabels
}

func policySelector(p *networkingv1.NetworkPolicy) map[string]string {
	if p == nil {
		return nil
	}
	return p.Spec.PodSelector.MatchLabels
}

func container(t *testing.T, pod corev1.PodSpec, name string) corev1.Container {
	t.Helper()
	for _, c := range pod.Containers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %q", name)
	return corev1.Container{}
}

// envOf returns the container's plain values (from references: empty) and
// fails on a variable the binary does not read.
func envOf(t *testing.T, c corev1.Container, known []string) map[string]string {
	t.Helper()
	if len(c.EnvFrom) > 0 {
		t.Errorf("container %s: envFrom hides which variables are set", c.Name)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		if !slices.Contains(known, e.Name) {
			t.Errorf("container %s sets %s, which smpp-connector does not read", c.Name, e.Name)
		}
		if _, dup := env[e.Name]; dup {
			t.Errorf("container %s sets %s twice", c.Name, e.Name)
		}
		env[e.Name] = e.Value
	}
	return env
}

// portNumber resolves a probe's or Service's port, by number or name.
func portNumber(c corev1.Container, port string) int {
	if n, err := strconv.Atoi(port); err == nil {
		return n
	}
	for _, p := range c.Ports {
		if p.Name == port {
			return int(p.ContainerPort)
		}
	}
	return -1
}

// checkPodSecurity is the restricted Pod Security Standard, and more.
func checkPodSecurity(t *testing.T, what string, pod corev1.PodSpec) {
	t.Helper()
	ps := pod.SecurityContext
	if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.RunAsUser == nil || *ps.RunAsUser != 65532 ||
		ps.SeccompProfile == nil || ps.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: pod securityContext %+v: want runAsNonRoot, uid 65532, seccomp RuntimeDefault", what, ps)
	}
	for _, c := range pod.Containers {
		sc := c.SecurityContext
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 ||
			sc.Privileged != nil && *sc.Privileged || sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			t.Errorf("%s: container %s securityContext %+v: want no privilege escalation, read-only root, drop ALL", what, c.Name, sc)
		}
		if c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s: container %s has no memory limit", what, c.Name)
		}
	}
}

// operatorsFile finds the ConfigMap key mounted at path and returns its data.
func operatorsFile(t *testing.T, b built, pod corev1.PodSpec, c corev1.Container, path string) string {
	t.Helper()
	for _, m := range c.VolumeMounts {
		rel, err := filepath.Rel(m.MountPath, path)
		if err != nil || strings.HasPrefix(rel, "..") || m.SubPath != "" {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name != m.Name || v.ConfigMap == nil {
				continue
			}
			cm := b.configMaps[v.ConfigMap.Name]
			if cm == nil {
				t.Fatalf("volume %s: ConfigMap %s is not in the overlay", v.Name, v.ConfigMap.Name)
			}
			data, ok := cm.Data[rel]
			if !ok {
				t.Fatalf("ConfigMap %s has no key %s (SMPP_OPERATORS_FILE %s)", cm.Name, rel, path)
			}
			return data
		}
	}
	t.Fatalf("SMPP_OPERATORS_FILE %q is on no ConfigMap volume", path)
	return ""
}

// leaseGrace is how long a standby waits after taking an operator's lease
// (connector/lease: five polls of 1 s).
const leaseGrace = 5 * time.Second

// httpShutdown bounds the HTTP server's shutdown (connector/service).
const httpShutdown = 5 * time.Second

// checkGracePeriod: the pod may finish the submits in flight, unbind, drain
// the outbox and hand its leases over before it is killed.
func checkGracePeriod(t *testing.T, pod corev1.PodSpec, ops *config.File) {
	t.Helper()
	var rt time.Duration
	for _, id := range ops.IDs() {
		o, _ := ops.Operator(id)
		rt = max(rt, o.ResponseTimeout)
	}
	need := 2*rt + relay.DefaultDrainTimeout + httpShutdown + leaseGrace
	got := time.Duration(0)
	if pod.TerminationGracePeriodSeconds != nil {
		got = time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
	}
	if got < need {
		t.Errorf("terminationGracePeriodSeconds %s, want at least %s (2 x responseTimeout %s + drain + HTTP + lease grace)", got, need, rt)
	}
}

// checkSimulator: staging's simulator is reached by the operators file and
// its control API has a token from a Secret in the overlay.
func checkSimulator(t *testing.T, b built) {
	t.Helper()
	d := b.deployments["smscsim"]
	if d == nil || b.services["smscsim"] == nil {
		t.Fatal("staging has no smscsim Deployment and Service")
	}
	checkPodSecurity(t, "Deployment smscsim", d.Spec.Template.Spec)
	c := container(t, d.Spec.Template.Spec, "smscsim")
	if c.Image != "smscsim:latest" {
		t.Errorf("simulator image %q", c.Image)
	}
	var token *corev1.SecretKeySelector
	for _, e := range c.Env {
		if e.Name == "SMSCSIM_CONTROL" {
			if h, _, err := net.SplitHostPort(e.Value); err != nil || h == "127.0.0.1" || h == "localhost" {
				t.Errorf("SMSCSIM_CONTROL %q: want all interfaces", e.Value)
			}
		}
		if e.Name == "SMSCSIM_TOKEN" && e.ValueFrom != nil {
			token = e.ValueFrom.SecretKeyRef
		}
	}
	if token == nil {
		t.Fatal("the simulator's SMSCSIM_TOKEN is not from a Secret")
	}
	s := b.secrets[token.Name]
	if s == nil {
		t.Fatalf("Secret %s is not in the overlay", token.Name)
	}
	if _, ok := s.Data[token.Key]; !ok {
		if _, ok := s.StringData[token.Key]; !ok {
			t.Errorf("Secret %s has no key %s", token.Name, token.Key)
		}
	}
}
