package testenv

import (
	"context"
	"fmt"
	"os"
)

// Services selects the backing services a suite needs.
type Services struct {
	Postgres bool
	Vault    bool
	NATS     bool
}

// AllServices is PostgreSQL, Vault and NATS.
var AllServices = Services{Postgres: true, Vault: true, NATS: true}

func (s Services) String() string {
	out := ""
	for _, x := range []struct {
		on   bool
		name string
	}{{s.Postgres, "postgres"}, {s.Vault, "vault"}, {s.NATS, "nats"}} {
		if x.on {
			if out != "" {
				out += ","
			}
			out += x.name
		}
	}
	if out == "" {
		return "none"
	}
	return out
}

// Endpoints tell how to reach the backing services of an environment.
type Endpoints struct {
	// PostgresDSN reaches a role that may create databases (fixtures make a
	// fresh database per suite from it).
	PostgresDSN string `json:"postgresDSN,omitempty"`
	VaultAddr   string `json:"vaultAddr,omitempty"`
	VaultToken  string `json:"vaultToken,omitempty"`
	// VaultKVMount is the path of the KV v2 engine holding the credentials.
	VaultKVMount string `json:"vaultKVMount,omitempty"`
	NATSURL      string `json:"natsURL,omitempty"`
}

// Provider makes the backing services available.
type Provider interface {
	// Name is "containers" or "external".
	Name() string
	// Start makes the selected services available and tells how to reach them.
	// After a failed Start, Stop still releases what was started.
	Start(ctx context.Context, services Services) (Endpoints, error)
	// Stop releases everything Start made; it may be called more than once.
	Stop(ctx context.Context) error
}

// EnvProvider is the variable that chooses the provider.
const EnvProvider = "SMPP_TEST_ENV"

// Provider names.
const (
	ProviderContainers = "containers"
	ProviderExternal   = "external"
)

// ProviderFromEnv returns the provider SMPP_TEST_ENV names (default containers).
// session labels whatever the provider starts.
func ProviderFromEnv(session string) (Provider, error) {
	switch name := os.Getenv(EnvProvider); name {
	case "", ProviderContainers:
		return NewContainersProvider(session, ImagesFromEnv()), nil
	case ProviderExternal:
		return NewExternalProvider(os.Getenv), nil
	default:
		return nil, fmt.Errorf("%s=%q: expected %q (default) or %q", EnvProvider, name, ProviderContainers, ProviderExternal)
	}
}
