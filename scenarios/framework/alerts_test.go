package framework

import (
	"path/filepath"
	"testing"

	"github.com/smpp-connector/smpp-connector/internal/ruletest"
)

// The alert criteria the Phase 3 gate records are phase3's, each "no alert"
// (max 0), and the rules file the watch evaluates has critical alerts for
// them to count: a gate that evaluates nothing would pass vacuously.
func TestAlertGatesInPhase3(t *testing.T) {
	path, err := GatesFile()
	if err != nil {
		t.Fatal(err)
	}
	g, err := LoadGates(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{GateCriticalFiring, GateCriticalPendingAtEnd} {
		group, th, ok := g.Lookup(name)
		if !ok || group != "phase3" {
			t.Errorf("%s: in group %q (found %v), want phase3", name, group, ok)
			continue
		}
		if th.Max == nil || *th.Max != 0 || th.Description == "" {
			t.Errorf("%s: threshold %s (%q), want max 0 with a description", name, th, th.Description)
		}
	}
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	critical := 0
	for _, r := range ruletest.Rules(t, filepath.Join(root, "deploy", "alerts.yaml")) {
		if r.Labels["severity"] == "critical" {
			critical++
		}
	}
	if critical == 0 {
		t.Error("deploy/alerts.yaml has no critical alert for the gate to watch")
	}
}
