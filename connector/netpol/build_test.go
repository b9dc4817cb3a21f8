package netpol

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

// options are the flags parsed from args, as the subcommand does.
func options(t *testing.T, args ...string) Options {
	t.Helper()
	var o Options
	fs := flag.NewFlagSet("netpol", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.Register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return o
}

// generate runs the subcommand and decodes its output strictly: an unknown
// or misspelled field fails.
func generate(t *testing.T, o Options) (networkingv1.NetworkPolicy, string) {
	t.Helper()
	var out bytes.Buffer
	if err := Run(context.Background(), o, &out); err != nil {
		t.Fatal(err)
	}
	var np networkingv1.NetworkPolicy
	if err := yaml.UnmarshalStrict(out.Bytes(), &np); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	return np, out.String()
}

// allowed lists every (CIDR or selector):port/protocol the egress rules allow.
func allowed(rules []networkingv1.NetworkPolicyEgressRule) []string {
	var out []string
	for _, r := range rules {
		for _, to := range r.To {
			peer := ""
			switch {
			case to.IPBlock != nil:
				peer = to.IPBlock.CIDR
			case to.NamespaceSelector != nil:
				peer = fmt.Sprintf("ns%v/pod%v", to.NamespaceSelector.MatchLabels, to.PodSelector)
			}
			for _, p := range r.Ports {
				out = append(out, fmt.Sprintf("%s:%s/%s", peer, p.Port.String(), *p.Protocol))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

var services = []string{"-nats", "10.20.0.5:4222", "-postgres", "10.20.0.6:5432"}

func TestEveryPrimaryAndBackupEndpointIsAllowed(t *testing.T) {
	o := options(t, append([]string{"-operators", "testdata/three.yaml"}, services...)...)
	np, text := generate(t, o)
	got := allowed(np.Spec.Egress)
	want := []string{
		"10.1.0.1/32:2775/TCP", "10.1.0.2/32:2775/TCP", "10.1.1.1/32:2776/TCP", // mno-a
		"2001:db8::10/128:3550/TCP", "192.0.2.20/32:2775/TCP", // mno-b, TLS and IPv6 too
		"198.51.100.30/32:2775/TCP", "198.51.100.31/32:2775/TCP", // mno-c; 10.1.0.1:2775 shared
		"10.20.0.5/32:4222/TCP", "10.20.0.6/32:5432/TCP",
		"nsmap[kubernetes.io/metadata.name:kube-system]/pod&LabelSelector{MatchLabels:map[string]string{k8s-app: kube-dns,},MatchExpressions:[]LabelSelectorRequirement{},}:53/TCP",
		"nsmap[kubernetes.io/metadata.name:kube-system]/pod&LabelSelector{MatchLabels:map[string]string{k8s-app: kube-dns,},MatchExpressions:[]LabelSelectorRequirement{},}:53/UDP",
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("allowed:\n%s\nwant:\n%s\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), text)
	}
	if strings.Contains(text, "10.9.9.9") {
		t.Fatalf("shadow endpoint in the live policy:\n%s", text)
	}
	// no rule lets one endpoint's IP through on another endpoint's port
	for _, r := range np.Spec.Egress {
		if len(r.Ports) != 1 && !(len(r.Ports) == 2 && r.Ports[0].Port.IntVal == 53) {
			t.Fatalf("rule with several ports: %+v", r)
		}
	}
	if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{"Ingress", "Egress"}) ||
		np.Spec.PodSelector.MatchLabels["app.kubernetes.io/name"] != "smpp-connector" || np.Kind != "NetworkPolicy" {
		t.Fatalf("spec: %+v", np)
	}
	// ingress: the metrics port only, from the monitoring namespace
	if len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].Ports) != 1 || np.Spec.Ingress[0].Ports[0].Port.IntVal != 8080 ||
		*np.Spec.Ingress[0].Ports[0].Protocol != corev1.ProtocolTCP ||
		np.Spec.Ingress[0].From[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "monitoring" {
		t.Fatalf("ingress: %+v", np.Spec.Ingress)
	}
	// every rule has a comment naming whom it is for
	for _, s := range []string{"# operator mno-a: primary 10.1.0.1:2775, primary 10.1.0.2:2775\n",
		"# operator mno-c: primary 198.51.100.30:2775, backup 198.51.100.31:2775, backup 10.1.0.1:2775\n",
		"# operator mno-b: primary [2001:db8::10]:3550 (tls)", "# nats: 10.20.0.5/32:4222", "# dns: pod:kube-system/k8s-app=kube-dns:53"} {
		if !strings.Contains(text, s) {
			t.Errorf("no %q in\n%s", s, text)
		}
	}
	if c := strings.Count(text, "\n  # "); c != len(np.Spec.Egress)+len(np.Spec.Ingress) {
		t.Errorf("%d rule comments for %d rules:\n%s", c, len(np.Spec.Egress)+len(np.Spec.Ingress), text)
	}
	// the same input gives the same bytes
	if _, again := generate(t, o); again != text {
		t.Fatalf("output differs between runs")
	}
}

func TestShadowModeListsTheShadowEndpoints(t *testing.T) {
	np, _ := generate(t, options(t, append([]string{"-operators", "testdata/three.yaml", "-shadow"}, services...)...))
	got := allowed(np.Spec.Egress)
	if !slices.Contains(got, "10.9.9.9/32:2775/TCP") || slices.Contains(got, "10.1.0.2/32:2775/TCP") {
		t.Fatalf("%v", got)
	}
}

func writeOperators(t *testing.T, endpoints string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ops.yaml")
	body := "operators:\n  - id: mno-a\n    endpoints: {primary: [{address: '10.0.0.1:2775'}]}\n    tps: 1\n    credentials: {file: /x}\n" +
		"  - id: mno-x\n    endpoints: " + endpoints + "\n    tps: 1\n    credentials: {file: /x}\n"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAHostNameIsRefusedNamingOperatorAndEndpoint(t *testing.T) {
	file := writeOperators(t, "{primary: [{address: '10.0.0.2:2775'}], backup: [{address: 'smsc.mno-x.example:2775'}]}")
	err := Run(context.Background(), options(t, append([]string{"-operators", file}, services...)...), io.Discard)
	if err == nil || !strings.Contains(err.Error(), `operator "mno-x"`) || !strings.Contains(err.Error(), `endpoints.backup[0] "smsc.mno-x.example:2775"`) ||
		!strings.Contains(err.Error(), "-resolve") {
		t.Fatalf("want an error naming operator and endpoint, got %v", err)
	}
}

func TestResolveListsEveryAddressOfLocalhost(t *testing.T) {
	want, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip", "localhost")
	if err != nil {
		t.Skipf("localhost does not resolve here: %v", err)
	}
	file := writeOperators(t, "{primary: [{address: 'localhost:2775'}]}")
	o := options(t, append([]string{"-operators", file, "-resolve", "-resolve-timeout", "2s"}, services...)...)
	o.Now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	np, text := generate(t, o)
	got := allowed(np.Spec.Egress)
	if !slices.Contains(got, "127.0.0.1/32:2775/TCP") {
		t.Fatalf("no 127.0.0.1 in %v", got)
	}
	for _, a := range want {
		if a.Unmap() == netip.IPv6Loopback() && !slices.Contains(got, "::1/128:2775/TCP") {
			t.Fatalf("localhost has ::1 here, not in %v", got)
		}
	}
	if np.Annotations[AnnotationResolved] != "localhost" || np.Annotations[AnnotationResolvedAt] != "2026-01-02T03:04:05Z" ||
		!strings.Contains(text, "localhost resolved at 2026-01-02T03:04:05Z") {
		t.Fatalf("no note of the resolution:\n%s", text)
	}
}

// fakeResolver answers from a table and counts lookups.
type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, fmt.Errorf("no such host")
}

func TestResolvedAddressesAreSortedAndDeduplicated(t *testing.T) {
	file := writeOperators(t, "{primary: [{address: 'smsc.example:2775'}], backup: [{address: 'smsc2.example:2775'}]}")
	o := options(t, append([]string{"-operators", file, "-resolve", "-vault", "vault.example:8200"}, services...)...)
	o.Resolver = fakeResolver{
		"smsc.example":  {netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("10.0.0.9"), netip.MustParseAddr("::ffff:10.0.0.8")},
		"smsc2.example": {netip.MustParseAddr("10.0.0.9")},
		"vault.example": {netip.MustParseAddr("10.30.0.1")},
	}
	np, _ := generate(t, o)
	var cidrs []string
	for _, to := range np.Spec.Egress[1].To {
		cidrs = append(cidrs, to.IPBlock.CIDR)
	}
	if !slices.Equal(cidrs, []string{"10.0.0.8/32", "10.0.0.9/32", "2001:db8::1/128"}) {
		t.Fatalf("mno-x: %v", cidrs)
	}
	if !slices.Contains(allowed(np.Spec.Egress), "10.30.0.1/32:8200/TCP") || np.Annotations[AnnotationResolved] != "smsc.example,smsc2.example,vault.example" {
		t.Fatalf("%+v", np)
	}
	o.Resolver = fakeResolver{}
	if err := Run(context.Background(), o, io.Discard); err == nil || !strings.Contains(err.Error(), `operator "mno-x"`) || !strings.Contains(err.Error(), "smsc.example") {
		t.Fatalf("a failed lookup: %v", err)
	}
}

func TestInClusterMapsAnSMSCHostToPods(t *testing.T) {
	file := writeOperators(t, "{primary: [{address: 'smscsim.smpp-staging.svc:2775'}]}")
	np, _ := generate(t, options(t, append([]string{"-operators", file, "-in-cluster", "smscsim.smpp-staging.svc=pod:smpp-staging/app.kubernetes.io/name=smscsim"}, services...)...))
	to := np.Spec.Egress[1].To[0]
	if to.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "smpp-staging" || to.PodSelector.MatchLabels["app.kubernetes.io/name"] != "smscsim" ||
		np.Spec.Egress[1].Ports[0].Port.IntVal != 2775 {
		t.Fatalf("%+v", np.Spec.Egress[1])
	}
}

func TestRequiredServices(t *testing.T) {
	vaultFile := filepath.Join(t.TempDir(), "v.yaml")
	os.WriteFile(vaultFile, []byte("operators:\n  - id: mno-a\n    endpoints: {primary: [{address: '10.0.0.1:2775'}]}\n    tps: 1\n"), 0o600)
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "-operators: required"},
		{[]string{"-operators", "testdata/three.yaml"}, "-nats: required"},
		{[]string{"-operators", "testdata/three.yaml", "-nats", "10.0.0.1:4222"}, "-postgres: required"},
		{append([]string{"-operators", vaultFile}, services...), "-vault: required"},
		{append([]string{"-operators", "testdata/three.yaml", "-nats", "nats.example:4222"}, services[2:]...), "-nats nats.example:4222"},
	} {
		err := Run(context.Background(), options(t, c.args...), io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
}

// A Service name in the cluster is refused even with -resolve: its
// ClusterIP in an ipBlock would not match the translated traffic.
func TestAServiceNameInTheClusterIsRefusedEvenWithResolve(t *testing.T) {
	file := writeOperators(t, "{primary: [{address: 'smscsim.smpp-staging.svc.cluster.local:2775'}]}")
	o := options(t, append([]string{"-operators", file, "-resolve"}, services...)...)
	o.Resolver = fakeResolver{"smscsim.smpp-staging.svc.cluster.local": {netip.MustParseAddr("10.96.0.20")}}
	if err := Run(context.Background(), o, io.Discard); err == nil || !strings.Contains(err.Error(), `operator "mno-x"`) ||
		!strings.Contains(err.Error(), "Service in the cluster") || !strings.Contains(err.Error(), "-in-cluster") {
		t.Fatalf("an SMSC Service name: %v", err)
	}
	file = writeOperators(t, "{primary: [{address: '10.0.0.2:2775'}]}")
	o = options(t, append([]string{"-operators", file, "-resolve", "-vault", "vault.vault.svc:8200"}, services...)...)
	o.Resolver = fakeResolver{"vault.vault.svc": {netip.MustParseAddr("10.96.0.30")}}
	if err := Run(context.Background(), o, io.Discard); err == nil || !strings.Contains(err.Error(), "-vault") ||
		!strings.Contains(err.Error(), "pod:NAMESPACE/LABELS:PORT") {
		t.Fatalf("a Vault Service name: %v", err)
	}
	for host, want := range map[string]bool{"vault.vault.svc": true, "a.b.svc.cluster.local.": true, "x.svc.corp": true,
		"smsc.example": false, "svc.example": false} {
		if clusterName(host) != want {
			t.Errorf("clusterName(%q) = %v", host, !want)
		}
	}
}
