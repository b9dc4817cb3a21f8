// Package vaultlive loads deploy/vault's policy and role into a real Vault
// and reads with a token of that policy the way the connector does: the
// operators' credentials and their metadata are readable, nothing beside
// them is (preflight's own check says so), and Vault takes the role's
// parameters as they are. internal/manifests checks the same files without
// a Vault; this shows Vault reads them the same way.
package vaultlive_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hashicorp/vault/api"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/preflight"
	"github.com/smpp-connector/smpp-connector/connector/secrets"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
)

var env *testenv.TestEnv

func TestMain(m *testing.M) {
	os.Exit(testenv.RunWithServices(m, testenv.Services{Vault: true}, &env))
}

const vaultDir = "../../../deploy/vault"

// tokenWithPolicy loads policy under a fresh name and returns a token that
// has it (and Vault's default policy, as the role's tokens do).
func tokenWithPolicy(t *testing.T, c *api.Client, policy string) string {
	t.Helper()
	name := testenv.RandomName("smpp-connector")
	if err := c.Sys().PutPolicy(name, policy); err != nil {
		t.Fatalf("Vault refuses the policy: %v", err)
	}
	t.Cleanup(func() { c.Sys().DeletePolicy(name) })
	s, err := c.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{name}, TTL: "10m"})
	if err != nil {
		t.Fatal(err)
	}
	return s.Auth.ClientToken
}

// seed writes a credential for operator and a secret beside it.
func seed(t *testing.T, c *api.Client, operator string) (sibling string) {
	t.Helper()
	ctx := context.Background()
	kv := c.KVv2(config.DefaultService().Vault.KVMount)
	path := secrets.DefaultVaultPath(operator)
	sibling = "smpp/" + testenv.RandomName("other")
	for p, data := range map[string]map[string]any{
		path:    {"system_id": "acme", "password": "pw123"},
		sibling: {"password": "not the connector's"},
	} {
		if _, err := kv.Put(ctx, p, data); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { kv.DeleteMetadata(context.Background(), p) })
	}
	return sibling
}

// preflightWith runs preflight for one operator whose SMSC is a local
// listener, reading Vault with token.
func preflightWith(t *testing.T, operator, token string) map[string]preflight.Result {
	t.Helper()
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	file := filepath.Join(t.TempDir(), "operators.yaml")
	body := "operators:\n  - id: " + operator + "\n    tps: 10\n    endpoints: {primary: [{address: '" + ln.Addr().String() + "'}]}\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	ops, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	v, err := secrets.NewVault(ctx, secrets.VaultConfig{Address: env.VaultAddr, Auth: secrets.TokenAuth{Token: token},
		KVMount: config.DefaultService().Vault.KVMount})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	out := map[string]preflight.Result{}
	for _, r := range preflight.Run(ctx, ops, v, v, preflight.Options{}) {
		out[r.Check] = r
	}
	return out
}

// A token of deploy/vault/smpp-connector.hcl reads an operator's credential
// and its metadata (the rotation watch), and nothing beside them: preflight
// passes, and a sibling secret and its metadata are refused. A wider policy
// fails preflight's check, so the check tells the two apart.
func TestPolicyInVault(t *testing.T) {
	ctx := context.Background()
	c := env.VaultAdmin(t)
	hcl, err := os.ReadFile(filepath.Join(vaultDir, "smpp-connector.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	operator := testenv.RandomName("mno")
	sibling := seed(t, c, operator)
	token := tokenWithPolicy(t, c, string(hcl))

	results := preflightWith(t, operator, token)
	for _, check := range []string{"credential", "policy"} {
		if r, ok := results[check]; !ok || r.Status != preflight.OK {
			t.Errorf("preflight %s: %+v", check, r)
		}
	}

	tc, err := testenv.NewVaultClient(env.VaultAddr, token)
	if err != nil {
		t.Fatal(err)
	}
	kv := tc.KVv2(config.DefaultService().Vault.KVMount)
	if _, err := kv.GetMetadata(ctx, secrets.DefaultVaultPath(operator)); err != nil {
		t.Errorf("the connector's token cannot read the credential's metadata: %v", err)
	}
	for name, read := range map[string]func() error{
		"sibling secret":   func() error { _, err := kv.Get(ctx, sibling); return err },
		"sibling metadata": func() error { _, err := kv.GetMetadata(ctx, sibling); return err },
		"below a credential": func() error {
			_, err := kv.Get(ctx, secrets.DefaultVaultPath(operator)+"/x")
			return err
		},
		"list of operators": func() error {
			_, err := tc.Logical().List(config.DefaultService().Vault.KVMount + "/metadata/smpp/operators")
			return err
		},
	} {
		var re *api.ResponseError
		if err := read(); !errors.As(err, &re) || re.StatusCode != 403 {
			t.Errorf("%s: %v, want 403 permission denied", name, err)
		}
	}

	wide := tokenWithPolicy(t, c, `path "secret/data/*" { capabilities = ["read"] }`)
	if r := preflightWith(t, operator, wide)["policy"]; r.Status != preflight.Fail {
		t.Errorf("preflight with a policy reading the whole mount: %+v, want %s", r, preflight.Fail)
	}
}

// Vault takes role.json's parameters as they are (no "ignored parameter"
// warning), and the role it stores binds what the file says.
func TestRoleInVault(t *testing.T) {
	c := env.VaultAdmin(t)
	mount := testenv.RandomName("k8s")
	if err := c.Sys().EnableAuthWithOptions(mount, &api.EnableAuthOptions{Type: "kubernetes"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Sys().DisableAuth(mount) })
	if _, err := c.Logical().Write("auth/"+mount+"/config", map[string]any{
		"kubernetes_host": "https://kubernetes.default.svc", "disable_local_ca_jwt": true,
	}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(vaultDir, "role.json"))
	if err != nil {
		t.Fatal(err)
	}
	var role map[string]any
	if err := json.Unmarshal(raw, &role); err != nil {
		t.Fatal(err)
	}
	s, err := c.Logical().Write("auth/"+mount+"/role/smpp-connector", role)
	if err != nil {
		t.Fatalf("Vault refuses role.json: %v", err)
	}
	if s != nil && len(s.Warnings) > 0 {
		t.Errorf("Vault warns about role.json: %v", s.Warnings)
	}
	got, err := c.Logical().Read("auth/" + mount + "/role/smpp-connector")
	if err != nil || got == nil {
		t.Fatalf("read the role back: %v", err)
	}
	for _, key := range []string{"bound_service_account_names", "bound_service_account_namespaces", "token_policies"} {
		want, have := strings(role[key]), strings(got.Data[key])
		if !slices.Equal(want, have) {
			t.Errorf("%s: Vault stored %v, role.json says %v", key, have, want)
		}
	}
}

func strings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}
