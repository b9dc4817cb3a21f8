package manifests

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl"
	"github.com/hashicorp/hcl/hcl/token"
	corev1 "k8s.io/api/core/v1"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/secrets"
)

const vaultDir = "../../deploy/vault"

// vaultPolicy is an ACL policy as Vault's HCL spells it, with the keys it
// does not know collected, so that a misspelled "capabilites" (which Vault
// would refuse, or a path rule that then grants nothing) fails here.
type vaultPolicy struct {
	Path   map[string]*vaultPathRule `hcl:"path"`
	Unused map[string][]token.Pos    `hcl:",unusedKeyPositions"`
}

type vaultPathRule struct {
	Capabilities []string               `hcl:"capabilities"`
	Unused       map[string][]token.Pos `hcl:",unusedKeyPositions"`
}

func readPolicy(t *testing.T) vaultPolicy {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(vaultDir, "smpp-connector.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	var p vaultPolicy
	if err := hcl.Decode(&p, string(raw)); err != nil {
		t.Fatalf("smpp-connector.hcl: %v", err)
	}
	if len(p.Unused) > 0 {
		t.Errorf("smpp-connector.hcl: unknown keys %v", slices.Sorted(maps.Keys(p.Unused)))
	}
	for path, r := range p.Path {
		if len(r.Unused) > 0 {
			t.Errorf("smpp-connector.hcl: path %q: unknown keys %v", path, slices.Sorted(maps.Keys(r.Unused)))
		}
	}
	return p
}

// vaultGlobMatch is Vault's path matching for ACL rules: "+" is one path
// segment, a trailing "*" any suffix, else the path itself.
func vaultGlobMatch(rule, path string) bool {
	prefix, glob := strings.CutSuffix(rule, "*")
	rs, ps := strings.Split(prefix, "/"), strings.Split(path, "/")
	if !glob && len(rs) != len(ps) || len(ps) < len(rs) {
		return false
	}
	for i, r := range rs {
		last := i == len(rs)-1
		switch {
		case r == "+":
			if ps[i] == "" {
				return false
			}
		case last && glob:
			if !strings.HasPrefix(ps[i], r) {
				return false
			}
		case r != ps[i]:
			return false
		}
	}
	return true
}

// readable reports whether the policy lets a token read path.
func (p vaultPolicy) readable(path string) bool {
	for rule, r := range p.Path {
		if vaultGlobMatch(rule, path) && slices.Contains(r.Capabilities, "read") && !slices.Contains(r.Capabilities, "deny") {
			return true
		}
	}
	return false
}

func TestVaultGlobMatch(t *testing.T) {
	for _, c := range []struct {
		rule, path string
		want       bool
	}{
		{"secret/data/smpp/operators/+", "secret/data/smpp/operators/mno-a", true},
		{"secret/data/smpp/operators/+", "secret/data/smpp/operators/mno-a/x", false},
		{"secret/data/smpp/operators/+", "secret/data/smpp/operators/", false},
		{"secret/data/smpp/operators/+", "secret/data/smpp/other", false},
		{"secret/data/smpp/*", "secret/data/smpp/other/x", true},
		{"secret/data/smpp/op*", "secret/data/smpp/operators/a", true},
		{"secret/data/smpp/x", "secret/data/smpp/x", true},
	} {
		if got := vaultGlobMatch(c.rule, c.path); got != c.want {
			t.Errorf("%s matches %s: %v, want %v", c.rule, c.path, got, c.want)
		}
	}
}

// The policy grants read, and only read, on the KV v2 data and metadata of
// the operators' credentials where connector/secrets reads them: the
// default mount and path, and every operator of every overlay with the
// overlay's mount. Paths beside them (another secret of the mount, the probe
// preflight makes, a path below an operator's secret) are not readable.
func TestVaultPolicy(t *testing.T) {
	p := readPolicy(t)
	mount := config.DefaultService().Vault.KVMount
	want := []string{
		mount + "/data/" + secrets.DefaultVaultPath("+"),
		mount + "/metadata/" + secrets.DefaultVaultPath("+"),
	}
	got := make([]string, 0, len(p.Path))
	for path, r := range p.Path {
		got = append(got, path)
		if !slices.Equal(r.Capabilities, []string{"read"}) {
			t.Errorf("path %q: capabilities %v, want [read]", path, r.Capabilities)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("policy paths %v, want %v (the KV v2 data and metadata of %s in mount %s)", got, want, secrets.DefaultVaultPath("{id}"), mount)
	}
	known := append(config.EnvNames(), runtimeEnv...)
	for _, o := range overlays {
		b := build(t, o.name)
		env := envOf(t, container(t, b.deployments["smpp-connector"].Spec.Template.Spec, "smpp-connector"), known)
		m := cmpOr(env["SMPP_VAULT_KV_MOUNT"], mount)
		ops, err := config.Load(filepath.Join(root, o.operators))
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ops.IDs() {
			oc, _ := ops.Operator(id)
			if oc.Credentials.VaultPath == "" {
				continue
			}
			for _, kind := range []string{"data", "metadata"} {
				if path := m + "/" + kind + "/" + oc.Credentials.VaultPath; !p.readable(path) {
					t.Errorf("%s: operator %s: the policy does not let the connector read %s", o.name, id, path)
				}
			}
		}
		for _, beside := range []string{
			m + "/data/smpp/other", m + "/data/preflight-probe-1", m + "/data/" + secrets.DefaultVaultPath("mno-a") + "/x",
			m + "/metadata/smpp", "sys/policy/smpp-connector", "auth/kubernetes/role/smpp-connector",
		} {
			if p.readable(beside) {
				t.Errorf("%s: the policy lets the connector read %s", o.name, beside)
			}
		}
	}
}

// checkVaultToken: the file the connector logs in to Vault with
// (SMPP_VAULT_JWT_PATH) is a projected service-account token of the role's
// audience, so that it is good for Vault only; and the pod has no API token,
// which it never uses.
func checkVaultToken(t *testing.T, overlay string, pod corev1.PodSpec, path, audience string) {
	t.Helper()
	if audience == "" {
		t.Errorf("role.json sets no audience: any token of the ServiceAccount, the API server's too, would log in")
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("%s: the pod mounts the API token, which the connector does not use", overlay)
	}
	c := container(t, pod, "smpp-connector")
	for _, m := range c.VolumeMounts {
		rel, err := filepath.Rel(m.MountPath, path)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name != m.Name || v.Projected == nil {
				continue
			}
			for _, src := range v.Projected.Sources {
				if sa := src.ServiceAccountToken; sa != nil && sa.Path == rel {
					if sa.Audience != audience {
						t.Errorf("%s: the Vault token's audience %q, the role's %q", overlay, sa.Audience, audience)
					}
					return
				}
			}
		}
	}
	t.Errorf("%s: SMPP_VAULT_JWT_PATH %q is no projected service-account token", overlay, path)
}

// The role binds the base's ServiceAccount in every overlay's namespace to
// the policy, under the name the Deployment logs in with; setup.sh loads
// the policy and the role under those names.
func TestVaultRole(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(vaultDir, "role.json"))
	if err != nil {
		t.Fatal(err)
	}
	var role struct {
		Names      []string `json:"bound_service_account_names"`
		Namespaces []string `json:"bound_service_account_namespaces"`
		Audience   string   `json:"audience"`
		Policies   []string `json:"token_policies"`
		TTL        string   `json:"token_ttl"`
		MaxTTL     string   `json:"token_max_ttl"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&role); err != nil {
		t.Fatalf("role.json: %v", err)
	}
	script, err := os.ReadFile(filepath.Join(vaultDir, "setup.sh"))
	if err != nil {
		t.Fatal(err)
	}
	policyName := regexp.MustCompile(`vault policy write (\S+) "\$here/smpp-connector.hcl"`).FindSubmatch(script)
	roleName := regexp.MustCompile(`vault write "auth/\$mount/role/([^"]+)" - < "\$here/role.json"`).FindSubmatch(script)
	if policyName == nil || roleName == nil {
		t.Fatalf("setup.sh does not write the policy and the role from smpp-connector.hcl and role.json")
	}
	if !slices.Equal(role.Policies, []string{string(policyName[1])}) {
		t.Errorf("the role's policies %v, want [%s], the policy setup.sh writes", role.Policies, policyName[1])
	}
	if role.TTL == "" || role.MaxTTL == "" {
		t.Error("the role sets no token_ttl or token_max_ttl: Vault's defaults (32 days) would apply")
	}
	if !strings.Contains(string(script), "mount=${SMPP_VAULT_AUTH_MOUNT:-"+config.DefaultService().Vault.AuthMount+"}") {
		t.Errorf("setup.sh's default auth mount is not the connector's (%s)", config.DefaultService().Vault.AuthMount)
	}
	known := append(config.EnvNames(), runtimeEnv...)
	var namespaces []string
	for _, o := range overlays {
		b := build(t, o.name)
		pod := b.deployments["smpp-connector"].Spec.Template.Spec
		env := envOf(t, container(t, pod, "smpp-connector"), known)
		if env["SMPP_VAULT_ROLE"] != string(roleName[1]) || env["SMPP_VAULT_AUTH"] != config.VaultAuthKubernetes {
			t.Errorf("%s: SMPP_VAULT_AUTH %q, SMPP_VAULT_ROLE %q: want %s, %s", o.name, env["SMPP_VAULT_AUTH"], env["SMPP_VAULT_ROLE"], config.VaultAuthKubernetes, roleName[1])
		}
		checkVaultToken(t, o.name, pod, env["SMPP_VAULT_JWT_PATH"], role.Audience)
		if !slices.Equal(role.Names, []string{pod.ServiceAccountName}) {
			t.Errorf("%s: the role binds ServiceAccounts %v, the pods run as %s", o.name, role.Names, pod.ServiceAccountName)
		}
		for ns := range b.namespaceSet {
			if !slices.Contains(namespaces, ns) {
				namespaces = append(namespaces, ns)
			}
		}
	}
	slices.Sort(namespaces)
	got := slices.Sorted(slices.Values(role.Namespaces))
	if !slices.Equal(got, namespaces) {
		t.Errorf("the role binds namespaces %v, the overlays deploy to %v", got, namespaces)
	}
}
