package netpol

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"time"
)

// Resolver looks up a name's addresses (net.Resolver is one).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// resolver resolves names with a timeout each and remembers which it did.
type resolver struct {
	r       Resolver
	timeout time.Duration
	done    map[string][]Peer
}

// peers are every A and AAAA address of host, as /32 and /128 ipBlocks.
func (r *resolver) peers(ctx context.Context, host string) ([]Peer, error) {
	if p, ok := r.done[host]; ok {
		return p, nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	addrs, err := r.r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("resolve %s: no address", host)
	}
	seen := map[netip.Prefix]bool{}
	var out []Peer
	for _, a := range addrs {
		p := single(a)
		if !seen[p] {
			seen[p] = true
			out = append(out, Peer{Prefix: p})
		}
	}
	sort.Slice(out, func(i, j int) bool { return comparePrefix(out[i].Prefix, out[j].Prefix) < 0 })
	if r.done == nil {
		r.done = map[string][]Peer{}
	}
	r.done[host] = out
	return out, nil
}

// names are the names resolved, sorted.
func (r *resolver) names() []string {
	var out []string
	for h := range r.done {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

var _ Resolver = net.DefaultResolver
