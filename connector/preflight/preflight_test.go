package preflight_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/preflight"
	"github.com/smpp-connector/smpp-connector/connector/secrets"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
)

var env *testenv.TestEnv

func TestMain(m *testing.M) {
	os.Exit(testenv.RunWithServices(m, testenv.Services{Vault: true}, &env))
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func admin(t *testing.T) *api.Client {
	t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = env.VaultAddr
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(env.VaultToken)
	return c
}

// tokenFor creates a token whose policy reads only the given KV paths
// (data and metadata; a trailing * for a prefix).
func tokenFor(t *testing.T, paths ...string) string {
	t.Helper()
	c := admin(t)
	var rules strings.Builder
	for _, p := range paths {
		fmt.Fprintf(&rules, "path %q { capabilities = [\"read\"] }\n", env.VaultKVMount+"/data/"+p)
		fmt.Fprintf(&rules, "path %q { capabilities = [\"read\"] }\n", env.VaultKVMount+"/metadata/"+p)
	}
	name := fmt.Sprintf("preflight-test-%d", time.Now().UnixNano())
	if err := c.Sys().PutPolicy(name, rules.String()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Sys().DeletePolicy(name) })
	s, err := c.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{name}, TTL: "10m"})
	if err != nil {
		t.Fatal(err)
	}
	return s.Auth.ClientToken
}

// The onboarding check of two operators: mno-a's credential is in Vault and
// binds at its primary (its backup refuses TCP); mno-b's was never loaded.
// With a policy that reads only the operators' credentials the policy check
// passes; with a token that reads the whole mount it fails. Every failure
// is a line of the table and named in the error; no password is printed.
func TestPreflight(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	prefix := fmt.Sprintf("smpp/preflight-%d", time.Now().UnixNano())
	kv := admin(t).KVv2(env.VaultKVMount)
	if _, err := kv.Put(ctx, prefix+"/mno-a", map[string]any{"system_id": "acme", "password": "s3cret"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kv.DeleteMetadata(context.Background(), prefix+"/mno-a") })

	sim, err := server.New(server.Config{Operators: []server.OperatorConfig{
		{ID: "mno-a", Listen: "127.0.0.1:0", Accounts: []server.AccountConfig{{SystemID: "acme", Password: "s3cret"}}},
	}}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	op, _ := sim.Operator("mno-a")
	ops, err := config.Parse(fmt.Appendf(nil, `operators:
  - id: mno-a
    endpoints: {primary: [{address: %q}], backup: [{address: "127.0.0.1:1"}]}
    tps: 10
    credentials: {vaultPath: "%s/{id}"}
  - id: mno-b
    endpoints: {primary: [{address: %q}]}
    tps: 10
    credentials: {vaultPath: "%s/{id}"}
`, op.Addr(), prefix, op.Addr(), prefix))
	if err != nil {
		t.Fatal(err)
	}

	check := func(token string, bind bool) (string, error) {
		v, err := secrets.NewVault(ctx, secrets.VaultConfig{Address: env.VaultAddr, KVMount: env.VaultKVMount,
			Auth: secrets.TokenAuth{Token: token}, Logger: quiet(),
			Paths: map[string]string{"mno-a": prefix + "/mno-a", "mno-b": prefix + "/mno-b"}})
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		var out bytes.Buffer
		err = preflight.Print(&out, preflight.Run(ctx, ops, v, v, preflight.Options{Bind: bind, Timeout: 5 * time.Second}))
		t.Logf("preflight (bind %v):\n%s", bind, out.String())
		if strings.Contains(out.String(), "s3cret") || (err != nil && strings.Contains(err.Error(), "s3cret")) {
			t.Fatal("the password is in the output")
		}
		return out.String(), err
	}
	line := func(out, operator, check string) string {
		for _, l := range strings.Split(out, "\n") {
			f := strings.Fields(l)
			if len(f) >= 3 && f[0] == operator && strings.Contains(l, check) {
				return l
			}
		}
		t.Fatalf("no line for %s %s in:\n%s", operator, check, out)
		return ""
	}

	out, err := check(tokenFor(t, prefix+"/*"), true)
	for _, want := range []struct{ op, check, status, detail string }{
		{"mno-a", "credential", "ok", "system_id acme, version 1, 0 days old"},
		{"vault", "policy", "ok", "is refused"},
		{"mno-a", "tcp " + op.Addr(), "ok", "connected"},
		{"mno-a", "bind " + op.Addr(), "ok", "bound as acme"},
		{"mno-a", "tcp 127.0.0.1:1", "FAIL", "connection refused"},
		{"mno-a", "bind 127.0.0.1:1", "FAIL", "not tried"},
		{"mno-b", "credential", "FAIL", "not found"},
		{"mno-b", "bind " + op.Addr(), "FAIL", "not tried"},
	} {
		l := line(out, want.op, want.check)
		if !strings.Contains(l, " "+want.status+" ") || !strings.Contains(l, want.detail) {
			t.Errorf("%s %s: %q, want %s and %q", want.op, want.check, l, want.status, want.detail)
		}
	}
	if err == nil || !strings.Contains(err.Error(), "mno-b credential") || !strings.Contains(err.Error(), "mno-a tcp 127.0.0.1:1") {
		t.Errorf("error %v: want the failed checks named", err)
	}

	// A token that may read the whole mount: the policy check fails.
	out, _ = check(tokenFor(t, "*"), false)
	if l := line(out, "vault", "policy"); !strings.Contains(l, " FAIL ") || !strings.Contains(l, "may read") {
		t.Errorf("policy with a token for the whole mount: %q, want FAIL", l)
	}
	if strings.Contains(out, "bind ") {
		t.Errorf("binds tried without -bind:\n%s", out)
	}
}
