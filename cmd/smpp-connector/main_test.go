package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckConfig(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"check-config", "../../connector/config/testdata/operators.yaml"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "2 operator(s), valid") {
		t.Fatalf("%s", out.String())
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("operators:\n  - id: mno-x\n    tps: 0\n    endpoints: {primary: [{address: '127.0.0.1:2775'}]}\n"), 0o600)
	err := run(context.Background(), []string{"check-config", bad}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), `operator "mno-x"`) || !strings.Contains(err.Error(), "tps") {
		t.Fatalf("want an error naming operator and field, got %v", err)
	}
}

func TestUsageErrors(t *testing.T) {
	for args, want := range map[string]string{
		"":             "missing command",
		"frobnicate":   "unknown command",
		"check-config": "exactly one",
		"migrate":      "no database",
	} {
		t.Setenv("SMPP_POSTGRES_DSN", "")
		var out bytes.Buffer
		err := run(context.Background(), strings.Fields(args), &out, &out)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", args, err, want)
		}
	}
}
