package netpol

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// entry is one thing the connector talks to: who (an operator, "nats"),
// what (the endpoint as configured), where (resolved peers) and the port.
type entry struct {
	who, what string
	peers     []Peer
	port      int32
	udp       bool   // UDP as well as TCP (DNS)
	resolved  string // the name resolved to peers, if any
}

// Rule is one rule of the policy and the note written above it.
type Rule struct {
	Note     string
	Peers    []Peer
	Port     int32
	UDP      bool
	Resolved []string // names resolved to Peers (-resolve)
}

// rules merges entries into rules: one per who and port, then rules with
// the same peers and port into one naming every who. Order is the entries'
// (callers add them in a fixed order); peers are sorted and deduplicated.
func rules(entries []entry) []Rule {
	type group struct {
		whos     []string
		notes    map[string][]string
		peers    map[string]Peer
		port     int32
		udp      bool
		resolved []string
	}
	var order []string
	groups := map[string]*group{}
	add := func(key string, g *group) *group {
		if have, ok := groups[key]; ok {
			return have
		}
		order = append(order, key)
		groups[key] = g
		return g
	}
	// one group per who and port
	var byWho []*group
	seenWho := map[string]*group{}
	for _, e := range entries {
		key := fmt.Sprintf("%s|%d|%t", e.who, e.port, e.udp)
		g, ok := seenWho[key]
		if !ok {
			g = &group{whos: []string{e.who}, notes: map[string][]string{}, peers: map[string]Peer{}, port: e.port, udp: e.udp}
			seenWho[key] = g
			byWho = append(byWho, g)
		}
		g.notes[e.who] = appendNew(g.notes[e.who], e.what)
		for _, p := range e.peers {
			g.peers[p.String()] = p
		}
		if e.resolved != "" {
			g.resolved = appendNew(g.resolved, e.resolved)
		}
	}
	// merge groups with the same peers and port
	for _, g := range byWho {
		key := fmt.Sprintf("%d|%t|%s", g.port, g.udp, strings.Join(sortedKeys(g.peers), " "))
		m := add(key, &group{notes: map[string][]string{}, peers: g.peers, port: g.port, udp: g.udp})
		for _, w := range g.whos {
			if _, ok := m.notes[w]; !ok {
				m.whos = append(m.whos, w)
			}
			for _, n := range g.notes[w] {
				m.notes[w] = appendNew(m.notes[w], n)
			}
		}
		for _, r := range g.resolved {
			m.resolved = appendNew(m.resolved, r)
		}
	}
	out := make([]Rule, 0, len(order))
	for _, key := range order {
		g := groups[key]
		var notes []string
		for _, w := range g.whos {
			notes = append(notes, w+": "+strings.Join(g.notes[w], ", "))
		}
		sort.Strings(g.resolved)
		out = append(out, Rule{Note: strings.Join(notes, "; "), Peers: sortPeers(g.peers), Port: g.port, UDP: g.udp, Resolved: g.resolved})
	}
	return out
}

func appendNew(list []string, s string) []string {
	for _, have := range list {
		if have == s {
			return list
		}
	}
	return append(list, s)
}

func sortedKeys(m map[string]Peer) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sortPeers orders address ranges first (IPv4 before IPv6, by address),
// then pod selectors by their text.
func sortPeers(m map[string]Peer) []Peer {
	out := make([]Peer, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Prefix.IsValid() != b.Prefix.IsValid() {
			return a.Prefix.IsValid()
		}
		if a.Prefix.IsValid() {
			return comparePrefix(a.Prefix, b.Prefix) < 0
		}
		return a.String() < b.String()
	})
	return out
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// protocols are the rule's: TCP, and UDP first for DNS.
func (r Rule) protocols() []corev1.Protocol {
	if r.UDP {
		return []corev1.Protocol{corev1.ProtocolUDP, corev1.ProtocolTCP}
	}
	return []corev1.Protocol{corev1.ProtocolTCP}
}
