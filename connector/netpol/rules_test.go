package netpol

import (
	"net/netip"
	"testing"
)

// Operators behind the same addresses and port share one rule naming both;
// a name given twice is listed once.
func TestRulesMergeTheSamePeersAndPort(t *testing.T) {
	ip := func(s string) Peer { return Peer{Prefix: single(netip.MustParseAddr(s))} }
	got := rules([]entry{
		{who: "operator b", what: "primary 10.0.0.2:2775", peers: []Peer{ip("10.0.0.2")}, port: 2775},
		{who: "operator b", what: "backup 10.0.0.1:2775", peers: []Peer{ip("10.0.0.1")}, port: 2775},
		{who: "operator a", what: "primary 10.0.0.1:2775", peers: []Peer{ip("10.0.0.1")}, port: 2775},
		{who: "operator a", what: "primary 10.0.0.2:2775", peers: []Peer{ip("10.0.0.2"), ip("10.0.0.2")}, port: 2775},
		{who: "operator a", what: "backup 10.0.0.2:2776", peers: []Peer{ip("10.0.0.2")}, port: 2776},
	})
	if len(got) != 2 {
		t.Fatalf("%d rules: %+v", len(got), got)
	}
	if got[0].Note != "operator b: primary 10.0.0.2:2775, backup 10.0.0.1:2775; operator a: primary 10.0.0.1:2775, primary 10.0.0.2:2775" ||
		len(got[0].Peers) != 2 || got[0].Peers[0].String() != "10.0.0.1/32" || got[0].Port != 2775 {
		t.Fatalf("%+v", got[0])
	}
	if got[1].Note != "operator a: backup 10.0.0.2:2776" || got[1].Port != 2776 {
		t.Fatalf("%+v", got[1])
	}
}
