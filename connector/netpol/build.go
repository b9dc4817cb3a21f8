package netpol

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/config"
)

// Policy is what the operators file and the flags allow, rule by rule.
type Policy struct {
	Egress     []Rule
	Ingress    []Rule
	Resolved   []string  // names resolved (-resolve), sorted
	ResolvedAt time.Time // when, if any
}

type builder struct {
	opts Options
	res  resolver
}

// Build derives the policy: egress to every operator's endpoints (in
// the order of their ids), then DNS, NATS, PostgreSQL, Vault and the
// operator-management-service; ingress to the metrics port.
func Build(ctx context.Context, ops *config.File, opts Options) (*Policy, error) {
	if len(opts.NATS) == 0 {
		return nil, errors.New("-nats: required (the connector consumes its commands from NATS)")
	}
	if len(opts.Postgres) == 0 {
		return nil, errors.New("-postgres: required (the connector stores correlations in PostgreSQL)")
	}
	if len(opts.Vault) == 0 && ops.UsesVault() {
		return nil, errors.New("-vault: required (an operator reads its credentials from Vault)")
	}
	if len(opts.MetricsFrom) == 0 {
		return nil, errors.New("-metrics-from: required (who scrapes the metrics)")
	}
	if len(opts.PodLabels) == 0 {
		return nil, errors.New("-pod-labels: required (the connector's pods)")
	}
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ResolveTimeout <= 0 {
		opts.ResolveTimeout = 5 * time.Second
	}
	b := &builder{opts: opts, res: resolver{r: opts.Resolver, timeout: opts.ResolveTimeout}}
	entries, err := b.smscEntries(ctx, ops)
	if err != nil {
		return nil, err
	}
	for _, svc := range []struct {
		flag string
		list []Target
		udp  bool
	}{{"dns", opts.DNS, true}, {"nats", opts.NATS, false}, {"postgres", opts.Postgres, false},
		{"vault", opts.Vault, false}, {"oms", opts.OMS, false}} {
		for _, t := range svc.list {
			e, err := b.serviceEntry(ctx, svc.flag, t, svc.udp)
			if err != nil {
				return nil, err
			}
			entries = append(entries, e)
		}
	}
	p := &Policy{Egress: rules(entries), Resolved: b.res.names()}
	if len(p.Resolved) > 0 {
		p.ResolvedAt = opts.Now().UTC().Truncate(time.Second)
		for i := range p.Egress {
			if r := p.Egress[i].Resolved; len(r) > 0 {
				p.Egress[i].Note += " (" + strings.Join(r, ", ") + " resolved at " + p.ResolvedAt.Format(time.RFC3339) + ": addresses may change, regenerate)"
			}
		}
	}
	var from []entry
	for _, peer := range opts.MetricsFrom {
		from = append(from, entry{who: "metrics, /healthz, /readyz", what: fmt.Sprintf("from %s", peer), peers: []Peer{peer}, port: opts.MetricsPort})
	}
	p.Ingress = rules(from)
	return p, nil
}
