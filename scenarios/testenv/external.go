package testenv

import (
	"context"
	"fmt"
	"strings"
)

// Environment variables of the external provider.
const (
	EnvPostgresDSN  = "SMPP_TEST_POSTGRES_DSN"
	EnvVaultAddr    = "SMPP_TEST_VAULT_ADDR"
	EnvVaultToken   = "SMPP_TEST_VAULT_TOKEN"
	EnvVaultKVMount = "SMPP_TEST_VAULT_KV_MOUNT"
	EnvNATSURL      = "SMPP_TEST_NATS_URL"
	// EnvPostgresReuseDB=true makes the fixtures migrate and use the DSN's own
	// database instead of creating a fresh one (for a role without CREATEDB).
	EnvPostgresReuseDB = "SMPP_TEST_POSTGRES_REUSE_DB"
)

// DefaultVaultKVMount is where the KV v2 engine is mounted (Vault's dev server
// mounts one at secret/).
const DefaultVaultKVMount = "secret"

// ExternalProvider uses services that already run (a staging deployment, or a
// developer's own), named by environment variables. It starts nothing and
// stops nothing.
type ExternalProvider struct {
	getenv func(string) string
}

// NewExternalProvider reads the endpoints through getenv (os.Getenv in suites).
func NewExternalProvider(getenv func(string) string) *ExternalProvider {
	return &ExternalProvider{getenv: getenv}
}

// Name implements Provider.
func (*ExternalProvider) Name() string { return ProviderExternal }

// Start implements Provider: it checks that every selected service has its
// variables set, and names all those missing at once.
func (p *ExternalProvider) Start(_ context.Context, s Services) (Endpoints, error) {
	e := Endpoints{
		PostgresDSN:  p.getenv(EnvPostgresDSN),
		VaultAddr:    p.getenv(EnvVaultAddr),
		VaultToken:   p.getenv(EnvVaultToken),
		VaultKVMount: p.getenv(EnvVaultKVMount),
		NATSURL:      p.getenv(EnvNATSURL),
	}
	if e.VaultKVMount == "" {
		e.VaultKVMount = DefaultVaultKVMount
	}
	var missing []string
	need := func(on bool, name, val string) {
		if on && val == "" {
			missing = append(missing, name)
		}
	}
	need(s.Postgres, EnvPostgresDSN, e.PostgresDSN)
	need(s.Vault, EnvVaultAddr, e.VaultAddr)
	need(s.Vault, EnvVaultToken, e.VaultToken)
	need(s.NATS, EnvNATSURL, e.NATSURL)
	if len(missing) > 0 {
		return Endpoints{}, fmt.Errorf("%s=%s needs %s set (services wanted: %s)",
			EnvProvider, ProviderExternal, strings.Join(missing, ", "), s)
	}
	if !s.Postgres {
		e.PostgresDSN = ""
	}
	if !s.Vault {
		e.VaultAddr, e.VaultToken = "", ""
	}
	if !s.NATS {
		e.NATSURL = ""
	}
	return e, nil
}

// Stop implements Provider; there is nothing to stop.
func (*ExternalProvider) Stop(context.Context) error { return nil }

// ReuseDatabase reports whether fixtures should use the DSN's own database.
func (p *ExternalProvider) ReuseDatabase() bool {
	v := strings.ToLower(p.getenv(EnvPostgresReuseDB))
	return v == "true" || v == "1" || v == "yes"
}
