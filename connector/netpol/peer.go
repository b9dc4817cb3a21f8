package netpol

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Peer is one side of a rule: an address range, a host name still to
// resolve, or pods chosen by namespace and labels.
type Peer struct {
	Prefix    netip.Prefix      // an ipBlock, when valid
	Host      string            // a name to resolve, when set
	Namespace string            // with Labels: a pod selector, when set
	Labels    map[string]string // empty: every pod of Namespace
}

// Target is a peer and a port.
type Target struct {
	Peer
	Port int32
}

// ParseTarget reads a peer flag's value: IP:PORT, CIDR:PORT, HOST:PORT or
// pod:NAMESPACE/LABELS:PORT (doc.go).
func ParseTarget(s string) (Target, error) {
	if rest, ok := strings.CutPrefix(s, "pod:"); ok {
		i := strings.LastIndex(rest, ":")
		if i < 0 {
			return Target{}, fmt.Errorf("%q: want pod:NAMESPACE/KEY=VALUE[,...]:PORT", s)
		}
		p, err := ParseSelector("pod:" + rest[:i])
		if err != nil {
			return Target{}, err
		}
		port, err := parsePort(rest[i+1:])
		if err != nil {
			return Target{}, fmt.Errorf("%q: %v", s, err)
		}
		return Target{Peer: p, Port: port}, nil
	}
	host, portStr, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return Target{}, fmt.Errorf("%q: want IP:PORT, CIDR:PORT, HOST:PORT or pod:NAMESPACE/LABELS:PORT", s)
	}
	port, err := parsePort(portStr)
	if err != nil {
		return Target{}, fmt.Errorf("%q: %v", s, err)
	}
	return Target{Peer: hostPeer(host), Port: port}, nil
}

// hostPeer is an ipBlock for an address or range, else a name to resolve.
func hostPeer(host string) Peer {
	if a, err := netip.ParseAddr(host); err == nil {
		return Peer{Prefix: single(a)}
	}
	if p, err := netip.ParsePrefix(host); err == nil {
		return Peer{Prefix: p.Masked()}
	}
	return Peer{Host: host}
}

// single is the /32 or /128 of one address.
func single(a netip.Addr) netip.Prefix {
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen())
}

func parsePort(s string) (int32, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %q: want 1-65535", s)
	}
	return int32(n), nil
}

// ParseSelector reads pod:NAMESPACE/KEY=VALUE[,KEY=VALUE...] (labels may be
// empty: every pod in the namespace), or an IP or CIDR.
func ParseSelector(s string) (Peer, error) {
	rest, ok := strings.CutPrefix(s, "pod:")
	if !ok {
		p := hostPeer(s)
		if p.Host != "" {
			return Peer{}, fmt.Errorf("%q: want pod:NAMESPACE/KEY=VALUE[,...], an IP or a CIDR", s)
		}
		return p, nil
	}
	ns, labels, ok := strings.Cut(rest, "/")
	if !ok {
		return Peer{}, fmt.Errorf("%q: want pod:NAMESPACE/KEY=VALUE[,...] (labels may be empty)", s)
	}
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return Peer{}, fmt.Errorf("%q: namespace %q: %s", s, ns, strings.Join(errs, "; "))
	}
	m, err := ParseLabels(labels)
	if err != nil {
		return Peer{}, fmt.Errorf("%q: %v", s, err)
	}
	return Peer{Namespace: ns, Labels: m}, nil
}

// ParseLabels reads KEY=VALUE[,KEY=VALUE...]; empty gives no labels.
func ParseLabels(s string) (map[string]string, error) {
	m := map[string]string{}
	if s == "" {
		return m, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("label %q: want KEY=VALUE", kv)
		}
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return nil, fmt.Errorf("label key %q: %s", k, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return nil, fmt.Errorf("label %s value %q: %s", k, v, strings.Join(errs, "; "))
		}
		m[k] = v
	}
	return m, nil
}

// String is the peer as the flags write it.
func (p Peer) String() string {
	switch {
	case p.Namespace != "":
		keys := make([]string, 0, len(p.Labels))
		for k := range p.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			keys[i] = k + "=" + p.Labels[k]
		}
		return "pod:" + p.Namespace + "/" + strings.Join(keys, ",")
	case p.Host != "":
		return p.Host
	}
	return p.Prefix.String()
}
