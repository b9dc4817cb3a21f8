package testenv

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/migrations"
)

// OperatorCredential is an operator's SMPP credential as Vault holds it, in KV
// v2 at <mount>/smpp/operators/{OperatorID} with the keys system_id, password
// and (optional) system_type.
type OperatorCredential struct {
	OperatorID string `json:"operatorId"`
	SystemID   string `json:"systemId"`
	Password   string `json:"password"`
	SystemType string `json:"systemType,omitempty"`
}

// SecretPath is the credential's path inside the KV v2 mount.
func (c OperatorCredential) SecretPath() string { return OperatorSecretPath(c.OperatorID) }

// OperatorSecretPath is an operator's credential path inside the KV v2 mount.
func OperatorSecretPath(operatorID string) string { return "smpp/operators/" + operatorID }

// String never shows the password.
func (c OperatorCredential) String() string {
	return fmt.Sprintf("%s (system_id=%s, password=<redacted>)", c.OperatorID, c.SystemID)
}

func (c OperatorCredential) data() map[string]any {
	d := map[string]any{"system_id": c.SystemID, "password": c.Password}
	if c.SystemType != "" {
		d["system_type"] = c.SystemType
	}
	return d
}

// CleanupFunc releases one fixture.
type CleanupFunc func(context.Context) error

var nonIdent = regexp.MustCompile(`[^a-z0-9_]+`)

// DatabaseName is a fresh database name for a suite: smpp_<suite>_<random>.
func DatabaseName(suite string) string {
	s := nonIdent.ReplaceAllString(strings.ToLower(suite), "_")
	if len(s) > 40 {
		s = s[:40]
	}
	return "smpp_" + s + "_" + randomHex(4)
}

// withDatabase returns dsn pointing at database db. It takes URLs
// (postgres://...) and keyword/value strings (host=... dbname=...).
func withDatabase(dsn, db string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse PostgreSQL URL: %w", redactURLError(err))
		}
		u.Path = "/" + db
		u.RawPath = ""
		return u.String(), nil
	}
	// keyword/value: a later dbname wins.
	return strings.TrimSpace(dsn) + " dbname='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(db) + "'", nil
}

// redactURLError keeps a password out of url.Parse's error text.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// CreateDatabase makes the empty database name through adminDSN (a role that
// may CREATE DATABASE) and returns the new database's DSN and how to drop it
// (also after a failure half-way, when drop is not nil).
func CreateDatabase(ctx context.Context, adminDSN, name string) (dsn string, drop CleanupFunc, err error) {
	conn, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return "", nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return "", nil, fmt.Errorf("create database %s (the role needs CREATEDB, or set %s=true): %w",
			name, EnvPostgresReuseDB, err)
	}
	drop = func(ctx context.Context) error {
		c, err := pgx.Connect(ctx, adminDSN)
		if err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		return nil
	}
	if dsn, err = withDatabase(adminDSN, name); err != nil {
		return "", drop, err
	}
	return dsn, drop, nil
}

// ApplyMigrations runs the project's migrations on dsn.
func ApplyMigrations(ctx context.Context, dsn string) (migrations.Result, error) {
	res, err := migrations.Apply(ctx, dsn)
	if err != nil {
		return res, fmt.Errorf("apply migrations: %w", err)
	}
	return res, nil
}

// NewVaultClient returns a Vault client for addr and token.
func NewVaultClient(addr, token string) (*vault.Client, error) {
	cfg := vault.DefaultConfig()
	cfg.Address = addr
	cfg.Timeout = 15 * time.Second
	c, err := vault.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vault client for %s: %w", addr, err)
	}
	c.SetToken(token)
	return c, nil
}

// SeedVault writes each operator's credential into the KV v2 mount, unless a
// secret is already there (an external Vault's own credentials are never
// overwritten: the stored one is returned instead). The cleanup deletes only
// the secrets written here, with all their versions.
func SeedVault(ctx context.Context, c *vault.Client, mount string, ops []OperatorCredential) ([]OperatorCredential, CleanupFunc, error) {
	kv := c.KVv2(mount)
	var written []string
	cleanup := func(ctx context.Context) error {
		var errs []error
		for _, p := range written {
			if err := kv.DeleteMetadata(ctx, p); err != nil {
				errs = append(errs, fmt.Errorf("delete vault secret %s/%s: %w", mount, p, err))
			}
		}
		return errors.Join(errs...)
	}
	out := make([]OperatorCredential, 0, len(ops))
	for _, op := range ops {
		path := op.SecretPath()
		existing, err := kv.Get(ctx, path)
		switch {
		case err == nil:
			stored := credentialFromData(op.OperatorID, existing.Data)
			Logf("vault: %s/%s exists already; using it as it is", mount, path)
			out = append(out, stored)
			continue
		case !errors.Is(err, vault.ErrSecretNotFound):
			return nil, cleanup, fmt.Errorf("read vault secret %s/%s: %w", mount, path, err)
		}
		if _, err := kv.Put(ctx, path, op.data()); err != nil {
			return nil, cleanup, fmt.Errorf("write vault secret %s/%s (is a KV v2 engine mounted at %s/?): %w",
				mount, path, mount, err)
		}
		written = append(written, path)
		out = append(out, op)
	}
	return out, cleanup, nil
}

func credentialFromData(operatorID string, d map[string]any) OperatorCredential {
	s := func(k string) string { v, _ := d[k].(string); return v }
	return OperatorCredential{OperatorID: operatorID, SystemID: s("system_id"), Password: s("password"), SystemType: s("system_type")}
}

// EnsureStreams provisions the contract's streams (natscontract) that the
// server does not already have (an external one provisioned by ops keeps
// its own) and returns, for each contract stream, the stream in use; the
// cleanup deletes the streams it created.
func EnsureStreams(ctx context.Context, js jetstream.JetStream) (map[string]string, CleanupFunc, error) {
	names := natscontract.DefaultNames()
	created, err := natscontract.ProvisionMissing(ctx, js, names)
	cleanup := func(ctx context.Context) error {
		var errs []error
		for _, n := range created {
			if err := js.DeleteStream(ctx, n); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
				errs = append(errs, fmt.Errorf("delete stream %s: %w", n, err))
			}
		}
		return errors.Join(errs...)
	}
	if err != nil {
		return nil, cleanup, err
	}
	inUse := map[string]string{}
	for _, s := range natscontract.Streams(names) {
		n, err := js.StreamNameBySubject(ctx, s.Subjects[0])
		if err != nil {
			return nil, cleanup, fmt.Errorf("look up the stream for %s: %w", s.Subjects[0], err)
		}
		if n != s.Name {
			Logf("nats: stream %s already captures %s; using it", n, s.Subjects[0])
		}
		inUse[s.Name] = n
	}
	return inUse, cleanup, nil
}

// ConnectNATS connects to the NATS server at url, naming the connection.
func ConnectNATS(url, name string) (*nats.Conn, error) {
	nc, err := nats.Connect(url, nats.Name(name), nats.Timeout(5*time.Second),
		nats.RetryOnFailedConnect(false), nats.MaxReconnects(10))
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", url, err)
	}
	return nc, nil
}

// VaultAdmin is a client of the environment's Vault with its root token,
// for tests that set up policies, roles and secrets.
func (e *TestEnv) VaultAdmin(t testing.TB) *vault.Client {
	t.Helper()
	c, err := NewVaultClient(e.VaultAddr, e.VaultToken)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// RandomName is prefix and 8 random hex digits: a name of its own for each
// test sharing a Vault or a database (operators, policies, tokens).
func RandomName(prefix string) string { return prefix + "-" + randomHex(4) }
