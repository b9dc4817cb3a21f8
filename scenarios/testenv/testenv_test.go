package testenv

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestExternalProviderNamesEveryMissingVariable(t *testing.T) {
	env := map[string]string{EnvVaultAddr: "http://vault:8200"}
	p := NewExternalProvider(func(k string) string { return env[k] })
	_, err := p.Start(context.Background(), AllServices)
	if err == nil {
		t.Fatal("no error without endpoints")
	}
	for _, v := range []string{EnvPostgresDSN, EnvVaultToken, EnvNATSURL} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error %q does not name %s", err, v)
		}
	}
	if strings.Contains(err.Error(), EnvVaultAddr+",") {
		t.Errorf("error %q names %s, which is set", err, EnvVaultAddr)
	}

	env = map[string]string{EnvNATSURL: "nats://n:4222", EnvPostgresDSN: "postgres://u:p@db/x"}
	e, err := p.Start(context.Background(), Services{NATS: true})
	if err != nil {
		t.Fatal(err)
	}
	if e.NATSURL != "nats://n:4222" || e.PostgresDSN != "" || e.VaultKVMount != DefaultVaultKVMount {
		t.Errorf("endpoints %+v", e)
	}
}

func TestProviderFromEnv(t *testing.T) {
	t.Setenv(EnvProvider, "kubernetes")
	if _, err := ProviderFromEnv("s"); err == nil || !strings.Contains(err.Error(), ProviderExternal) {
		t.Errorf("unknown provider: %v", err)
	}
	t.Setenv(EnvProvider, "external")
	if p, err := ProviderFromEnv("s"); err != nil || p.Name() != ProviderExternal {
		t.Errorf("external: %v %v", p, err)
	}
}

func TestWithDatabase(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:p@h:5432/postgres?sslmode=disable": "postgres://u:p@h:5432/smpp_x?sslmode=disable",
		"postgresql://u@h/":             "postgresql://u@h/smpp_x",
		"host=h user=u dbname=postgres": "host=h user=u dbname=postgres dbname='smpp_x'",
	} {
		got, err := withDatabase(in, "smpp_x")
		if err != nil || got != want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := withDatabase("postgres://u:s3cret@h:bad/x", "y"); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("bad URL: %v (must fail without showing the password)", err)
	}
	n := DatabaseName("Phase 1/Quirks-Suite")
	if !strings.HasPrefix(n, "smpp_phase_1_quirks_suite_") || len(n) > 63 {
		t.Errorf("DatabaseName: %q", n)
	}
}

func TestOperatorCredentialHidesPassword(t *testing.T) {
	c := OperatorCredential{OperatorID: "mno-a", SystemID: "sys", Password: "pa55wdA1"}
	if strings.Contains(c.String(), "pa55wdA1") {
		t.Errorf("String() shows the password: %s", c)
	}
	if c.SecretPath() != "smpp/operators/mno-a" {
		t.Errorf("SecretPath %q", c.SecretPath())
	}
}

func TestCheckDockerNamesTheBuildCommandForAMissingLocalImage(t *testing.T) {
	if os.Getenv(EnvProvider) == ProviderExternal {
		t.Skip("SMPP_TEST_ENV=external: no Docker expected")
	}
	err := CheckDocker(context.Background(), "smpp-ci/does-not-exist:0", "registry.invalid/not-checked:1")
	if !errors.Is(err, ErrImageMissing) {
		t.Fatalf("got %v, want ErrImageMissing", err)
	}
	if !strings.Contains(err.Error(), "make images") || !strings.Contains(err.Error(), "smpp-ci/does-not-exist:0") ||
		strings.Contains(err.Error(), "registry.invalid") {
		t.Errorf("message: %v", err)
	}
}

// TestImportsNeitherGinkgoNorTheConnector: the connector's own package tests
// use testenv, so testenv must not import the connector's service (an import
// cycle) nor pull Ginkgo into plain `go test` packages.
func TestImportsNeitherGinkgoNorTheConnector(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Skipf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/onsi/") || strings.HasPrefix(dep, "github.com/smpp-connector/smpp-connector/connector/service") ||
			strings.HasPrefix(dep, "github.com/smpp-connector/smpp-connector/scenarios/framework") {
			t.Errorf("testenv depends on %s", dep)
		}
	}
}
