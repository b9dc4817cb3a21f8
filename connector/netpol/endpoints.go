package netpol

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/smpp-connector/smpp-connector/connector/config"
)

// smscEntries are every operator's primary and backup endpoints for the
// mode (shadow or live), in the order of the operators' ids.
func (b *builder) smscEntries(ctx context.Context, ops *config.File) ([]entry, error) {
	var out []entry
	for _, id := range ops.IDs() {
		o, _ := ops.Operator(id)
		for _, list := range []struct {
			role string
			eps  []config.Endpoint
		}{{"primary", o.Endpoints.Primary}, {"backup", o.Endpoints.Backup}} {
			for i, ep := range list.eps {
				if ep.Shadow != b.opts.Shadow {
					continue
				}
				e, err := b.smscEntry(ctx, ep)
				if err != nil {
					return nil, fmt.Errorf("operator %q: endpoints.%s[%d] %q: %w", id, list.role, i, ep.Address, err)
				}
				e.who, e.what = "operator "+id, list.role+" "+ep.Address
				if ep.TLS {
					e.what += " (tls)"
				}
				out = append(out, e)
			}
		}
	}
	return out, nil
}

func (b *builder) smscEntry(ctx context.Context, ep config.Endpoint) (entry, error) {
	host, port, err := net.SplitHostPort(ep.Address)
	if err != nil {
		return entry{}, err
	}
	if sel, ok := b.opts.InCluster[host]; ok {
		t, err := ParseTarget(sel + ":" + port)
		if err != nil {
			return entry{}, err
		}
		return entry{peers: []Peer{t.Peer}, port: t.Port}, nil
	}
	t, err := ParseTarget(ep.Address)
	if err != nil {
		return entry{}, err
	}
	if t.Host == "" {
		return entry{peers: []Peer{t.Peer}, port: t.Port}, nil
	}
	if clusterName(host) {
		return entry{}, fmt.Errorf("host %q is a Service in the cluster: its ClusterIP is not what a NetworkPolicy sees once the Service is translated to a pod's address; give -in-cluster %s=pod:NAMESPACE/LABELS (with the pod's port)", host, host)
	}
	if !b.opts.Resolve {
		return entry{}, fmt.Errorf("host %q is a name, not an IP address: pass -resolve to list its addresses now, or -in-cluster %s=pod:NAMESPACE/LABELS for pods in the cluster", host, host)
	}
	peers, err := b.res.peers(ctx, host)
	if err != nil {
		return entry{}, err
	}
	return entry{peers: peers, port: t.Port, resolved: host}, nil
}

// serviceEntry is one flag's target (NATS, PostgreSQL, ...), resolved when
// a name and -resolve is set.
func (b *builder) serviceEntry(ctx context.Context, flagName string, t Target, udp bool) (entry, error) {
	e := entry{who: flagName, what: fmt.Sprintf("%s:%d", t.Peer, t.Port), port: t.Port, udp: udp}
	if t.Host == "" {
		e.peers = []Peer{t.Peer}
		return e, nil
	}
	if clusterName(t.Host) {
		return entry{}, fmt.Errorf("-%s %s:%d: %q is a Service in the cluster: its ClusterIP is not what a NetworkPolicy sees once the Service is translated to a pod's address; give pod:NAMESPACE/LABELS:PORT (the pod's port, the Service's targetPort)", flagName, t.Host, t.Port, t.Host)
	}
	if !b.opts.Resolve {
		return entry{}, fmt.Errorf("-%s %s:%d: %q is a name, not an IP address: pass -resolve, or give pod:NAMESPACE/LABELS:PORT", flagName, t.Host, t.Port, t.Host)
	}
	peers, err := b.res.peers(ctx, t.Host)
	if err != nil {
		return entry{}, fmt.Errorf("-%s: %w", flagName, err)
	}
	e.peers, e.resolved = peers, t.Host
	return e, nil
}

// clusterName reports a Kubernetes Service name (NAME.NAMESPACE.svc, with
// or without the cluster domain): resolving it gives a ClusterIP, which
// policies do not match after the Service's translation to pod addresses
// (Calico, Cilium), so an ipBlock of it would block the traffic.
func clusterName(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	return strings.HasSuffix(h, ".svc") || strings.HasSuffix(h, ".cluster.local") || strings.Contains(h, ".svc.")
}
