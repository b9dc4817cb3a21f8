package service

import (
	"context"
	"log/slog"
	"sync"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/secrets"
)

// credentialRoutes sends each operator to the source of its credential: its
// rendered file, or Vault at its path. A reloaded operators file may add an
// operator or move a credential: routes change in place, and the Vault
// client is made when the first operator whose credential is in Vault
// appears (the only step that can fail).
type credentialRoutes struct {
	svc    config.Service
	log    *slog.Logger
	life   context.Context // the Vault client's: closed when it ends
	router *secrets.Router
	files  *secrets.File

	mu    sync.Mutex
	vault *secrets.Vault // nil while no operator's credential is in Vault
}

func newCredentialRoutes(life context.Context, svc config.Service, log *slog.Logger) *credentialRoutes {
	return &credentialRoutes{svc: svc, log: log, life: life,
		router: &secrets.Router{Sources: map[string]secrets.Source{}},
		files:  &secrets.File{Paths: map[string]string{}, Logger: log}}
}

// prepare makes sure the sources the operators need exist: it logs in to
// Vault when one of them is the first with a credential there.
func (c *credentialRoutes) prepare(ctx context.Context, ops []config.Operator) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.vault != nil {
		return nil
	}
	paths := map[string]string{}
	for _, oc := range ops {
		if oc.Credentials.File == "" {
			paths[oc.ID] = config.Expand(oc.Credentials.VaultPath, oc.ID)
		}
	}
	if len(paths) == 0 {
		return nil
	}
	var auth secrets.VaultAuth = secrets.TokenAuth{Token: c.svc.Vault.Token}
	if c.svc.Vault.Auth == config.VaultAuthKubernetes {
		auth = secrets.KubernetesAuth{Role: c.svc.Vault.Role, JWTPath: c.svc.Vault.JWTPath, Mount: c.svc.Vault.AuthMount}
	}
	v, err := secrets.NewVault(ctx, secrets.VaultConfig{Address: c.svc.Vault.Address, Auth: auth,
		KVMount: c.svc.Vault.KVMount, Paths: paths, Logger: c.log})
	if err != nil {
		return err
	}
	go func() { <-c.life.Done(); v.Close() }()
	c.vault = v
	return nil
}

// route points the operator at its credential (prepare made its source).
func (c *credentialRoutes) route(oc config.Operator) {
	c.mu.Lock()
	v := c.vault
	c.mu.Unlock()
	if oc.Credentials.File != "" {
		c.files.SetPath(oc.ID, oc.Credentials.File)
		c.router.Set(oc.ID, c.files)
		return
	}
	c.files.SetPath(oc.ID, "")
	if v == nil { // prepare was not called for it: the reads fail, naming the operator
		c.router.Set(oc.ID, nil)
		return
	}
	v.SetPath(oc.ID, config.Expand(oc.Credentials.VaultPath, oc.ID))
	c.router.Set(oc.ID, v)
}

// unroute forgets a removed operator.
func (c *credentialRoutes) unroute(id string) {
	c.files.SetPath(id, "")
	c.router.Set(id, nil)
}

// vaultClient is the Vault client, nil when no operator needs one.
func (c *credentialRoutes) vaultClient() *secrets.Vault {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.vault
}

// BuildSecrets routes each operator to Vault or to its rendered file, and
// returns the Vault client too (nil when no operator's credential is in
// Vault; it is closed when ctx ends).
func BuildSecrets(ctx context.Context, svc config.Service, ops *config.File, log *slog.Logger) (secrets.Source, *secrets.Vault, error) {
	c, err := buildRoutes(ctx, svc, ops, log)
	if err != nil {
		return nil, nil, err
	}
	return c.router, c.vaultClient(), nil
}

func buildRoutes(ctx context.Context, svc config.Service, ops *config.File, log *slog.Logger) (*credentialRoutes, error) {
	c := newCredentialRoutes(ctx, svc, log)
	if err := c.prepare(ctx, ops.Operators); err != nil {
		return nil, err
	}
	for _, oc := range ops.Operators {
		c.route(oc)
	}
	return c, nil
}
