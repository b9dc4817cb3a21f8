package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime/debug"
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

// Vault settings are required only when an operator reads its credentials
// from Vault: with rendered files the connector starts without them.
func TestRunNeedsVaultOnlyForVaultCredentials(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cred := write("cred.json", `{"system_id": "acme", "password": "pw"}`)
	files := write("files.yaml", "operators:\n  - id: mno-a\n    tps: 10\n    endpoints: {primary: [{address: '127.0.0.1:1'}]}\n    credentials: {file: "+cred+"}\n")
	vault := write("vault.yaml", "operators:\n  - id: mno-a\n    tps: 10\n    endpoints: {primary: [{address: '127.0.0.1:1'}]}\n")
	t.Setenv("SMPP_VAULT_ADDR", "")
	t.Setenv("VAULT_ADDR", "")
	t.Setenv("SMPP_VAULT_TOKEN", "")
	t.Setenv("VAULT_TOKEN", "")
	t.Setenv("SMPP_NATS_URL", "nats://127.0.0.1:1") // nothing listens: run fails after the settings are accepted
	t.Setenv("SMPP_POSTGRES_DSN", "postgres://u@127.0.0.1:1/db")
	var out bytes.Buffer
	err := run(context.Background(), []string{"run", "-operators", vault}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "vault address (SMPP_VAULT_ADDR): required") {
		t.Fatalf("Vault credentials without Vault settings: %v", err)
	}
	err = run(context.Background(), []string{"run", "-operators", files}, &out, &out)
	if err == nil || strings.Contains(strings.ToLower(err.Error()), "vault") {
		t.Fatalf("file credentials: want a connection error, not about Vault: %v", err)
	}
}

// run sets the connector's GC target unless GOGC is set.
func TestRunTunesTheGCUnlessGOGCIsSet(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	tuneGC(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != defaultGCPercent {
		t.Fatalf("GC percent %d, want %d", got, defaultGCPercent)
	}
	tuneGC(func(k string) string {
		if k == "GOGC" {
			return "100"
		}
		return ""
	})
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC=100 overridden: %d", got)
	}
}
