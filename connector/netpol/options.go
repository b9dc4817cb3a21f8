package netpol

import (
	"flag"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/config"
)

// Options are the netpol subcommand's flags.
type Options struct {
	Operators      string            // the operators file
	Name           string            // the policy's name
	Namespace      string            // the policy's namespace; empty: none written
	PodLabels      map[string]string // the connector's pods
	Shadow         bool              // the shadow endpoints instead of the live ones
	DNS            []Target          // UDP and TCP
	NATS           []Target          // required
	Postgres       []Target          // required
	Vault          []Target          // required when an operator reads Vault
	OMS            []Target          // the operator-management-service
	MetricsPort    int32             // ingress: metrics, /healthz and /readyz
	MetricsFrom    []Peer            // who may scrape
	Resolve        bool              // resolve host names instead of refusing them
	ResolveTimeout time.Duration     // per name
	InCluster      map[string]string // SMSC host -> pod:NAMESPACE/LABELS
	Resolver       Resolver          // nil: net.DefaultResolver
	Now            func() time.Time  // nil: time.Now
}

// The defaults: the connector's pods by their standard name label, DNS at
// kube-dns, scraping from the monitoring namespace on the connector's HTTP port.
const (
	DefaultPodLabels   = "app.kubernetes.io/name=smpp-connector"
	DefaultDNS         = "pod:kube-system/k8s-app=kube-dns:53"
	DefaultMetricsFrom = "pod:monitoring/"
)

// DefaultMetricsPort is the port of config.DefaultService's HTTPListen.
func DefaultMetricsPort() int32 {
	_, p, _ := net.SplitHostPort(config.DefaultService().HTTPListen)
	n, _ := strconv.Atoi(p)
	return int32(n)
}

const peerSyntax = "IP:PORT, CIDR:PORT, HOST:PORT (with -resolve) or pod:NAMESPACE/KEY=VALUE[,...]:PORT; repeat for several"

// Register defines the flags on fs, with their defaults.
func (o *Options) Register(fs *flag.FlagSet) {
	o.PodLabels, _ = ParseLabels(DefaultPodLabels)
	dns, _ := ParseTarget(DefaultDNS)
	o.DNS = []Target{dns}
	from, _ := ParseSelector(DefaultMetricsFrom)
	o.MetricsFrom = []Peer{from}
	o.MetricsPort = DefaultMetricsPort()
	o.ResolveTimeout = 5 * time.Second
	o.InCluster = map[string]string{}

	fs.StringVar(&o.Operators, "operators", "", "the operators file (required)")
	fs.StringVar(&o.Name, "name", "smpp-connector", "the NetworkPolicy's name")
	fs.StringVar(&o.Namespace, "namespace", "", "the NetworkPolicy's namespace (default: none, kubectl's)")
	fs.Var(labelsValue{&o.PodLabels}, "pod-labels", "the connector's pods: KEY=VALUE[,...]")
	fs.BoolVar(&o.Shadow, "shadow", false, "the shadow endpoints (Phase 2 shadow mode) instead of the live ones")
	fs.Var(&targets{list: &o.DNS}, "dns", "DNS, UDP and TCP: "+peerSyntax)
	fs.Var(&targets{list: &o.NATS}, "nats", "NATS (required): "+peerSyntax)
	fs.Var(&targets{list: &o.Postgres}, "postgres", "PostgreSQL (required): "+peerSyntax)
	fs.Var(&targets{list: &o.Vault}, "vault", "Vault (required when an operator reads its credentials from Vault): "+peerSyntax)
	fs.Var(&targets{list: &o.OMS}, "oms", "the operator-management-service: "+peerSyntax)
	fs.Var(portValue{&o.MetricsPort}, "metrics-port", "ingress: the connector's metrics/health port (the port of -http)")
	fs.Var(&selectors{list: &o.MetricsFrom}, "metrics-from", "ingress from: pod:NAMESPACE/KEY=VALUE[,...] (labels may be empty), an IP or a CIDR; repeat for several")
	fs.BoolVar(&o.Resolve, "resolve", false, "resolve host names to every A/AAAA address now (addresses may change: regenerate) instead of refusing them")
	fs.DurationVar(&o.ResolveTimeout, "resolve-timeout", o.ResolveTimeout, "timeout of each name's resolution")
	fs.Var(inCluster{o.InCluster}, "in-cluster", "SMSC host served in the cluster: HOST=pod:NAMESPACE/KEY=VALUE[,...]; repeat for several")
}

// targets is a repeatable peer flag; the first value replaces the default.
type targets struct {
	list *[]Target
	set  bool
}

func (t *targets) String() string {
	if t == nil || t.list == nil {
		return ""
	}
	var s []string
	for _, x := range *t.list {
		s = append(s, fmt.Sprintf("%s:%d", x.Peer, x.Port))
	}
	return strings.Join(s, " ")
}

func (t *targets) Set(s string) error {
	if !t.set {
		*t.list, t.set = nil, true
	}
	if s == "" { // -dns '': none
		return nil
	}
	x, err := ParseTarget(s)
	if err != nil {
		return err
	}
	*t.list = append(*t.list, x)
	return nil
}

// selectors is a repeatable -metrics-from; the first value replaces the default.
type selectors struct {
	list *[]Peer
	set  bool
}

func (t *selectors) String() string {
	if t == nil || t.list == nil {
		return ""
	}
	var s []string
	for _, x := range *t.list {
		s = append(s, x.String())
	}
	return strings.Join(s, " ")
}

func (t *selectors) Set(s string) error {
	if !t.set {
		*t.list, t.set = nil, true
	}
	p, err := ParseSelector(s)
	if err != nil {
		return err
	}
	*t.list = append(*t.list, p)
	return nil
}

type labelsValue struct{ m *map[string]string }

func (l labelsValue) String() string {
	if l.m == nil {
		return ""
	}
	return strings.TrimPrefix(Peer{Namespace: "-", Labels: *l.m}.String(), "pod:-/")
}

func (l labelsValue) Set(s string) error {
	m, err := ParseLabels(s)
	if err != nil {
		return err
	}
	if len(m) == 0 {
		return fmt.Errorf("want at least one KEY=VALUE")
	}
	*l.m = m
	return nil
}

type portValue struct{ p *int32 }

func (v portValue) String() string {
	if v.p == nil {
		return ""
	}
	return strconv.Itoa(int(*v.p))
}

func (v portValue) Set(s string) error {
	n, err := parsePort(s)
	if err != nil {
		return err
	}
	*v.p = n
	return nil
}

type inCluster struct{ m map[string]string }

func (v inCluster) String() string { return "" }

func (v inCluster) Set(s string) error {
	host, sel, ok := strings.Cut(s, "=")
	if !ok || host == "" {
		return fmt.Errorf("%q: want HOST=pod:NAMESPACE/KEY=VALUE[,...]", s)
	}
	p, err := ParseSelector(sel)
	if err != nil {
		return err
	}
	if p.Namespace == "" {
		return fmt.Errorf("%q: want HOST=pod:NAMESPACE/KEY=VALUE[,...]", s)
	}
	v.m[host] = sel
	return nil
}
