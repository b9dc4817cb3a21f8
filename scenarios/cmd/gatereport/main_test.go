package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunRendersTheIndexOfADirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "phase1.gates.json"),
		[]byte(`{"suite":"phase1","group":"phase1","passed":true,"complete":true,"suiteSucceeded":true,"criteria":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := run([]string{"-dir", dir}, &out); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), `data-suite="phase1"`) || !strings.Contains(out.String(), "1 suite(s)") {
		t.Errorf("output %q; page without phase1", out.String())
	}
}

func TestRunRefusesADirectoryWithoutReports(t *testing.T) {
	if err := run([]string{"-dir", t.TempDir()}, &strings.Builder{}); err == nil || !strings.Contains(err.Error(), "no suite report") {
		t.Errorf("error %v", err)
	}
	if err := run([]string{"-dir", filepath.Join(t.TempDir(), "absent")}, &strings.Builder{}); err == nil {
		t.Error("no error for a missing directory")
	}
}
