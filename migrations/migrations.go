// Package migrations holds the SQL migrations of the smpp schema (the
// connector's correlation store) and applies them with goose.
//
// The SQL files are embedded in the binary (sql/NNNNN_name.sql, goose format:
// "-- +goose Up" / "-- +goose Down"). Apply is safe to call from several
// replicas at once: a PostgreSQL advisory lock serialises them. Applied
// versions are recorded in smpp.goose_db_version, so everything the service
// owns lives in the smpp schema.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Schema is the PostgreSQL schema the migrations create and own.
const Schema = "smpp"

// VersionTable records which migrations have been applied.
const VersionTable = Schema + ".goose_db_version"

//go:embed sql/*.sql
var embedded embed.FS

// FS returns the migration files (NNNNN_name.sql at its root).
func FS() fs.FS {
	sub, err := fs.Sub(embedded, "sql")
	if err != nil {
		panic(err) // cannot happen: the directory is embedded
	}
	return sub
}

// Result is what Apply did.
type Result struct {
	// Applied lists the migrations run by this call, oldest first ("00001_name.sql").
	Applied []string
	// Version is the schema version after the call.
	Version int64
}

// Apply brings the database at dsn (a PostgreSQL URL or keyword/value DSN) up
// to the newest migration. Running it again is a no-op.
func Apply(ctx context.Context, dsn string) (Result, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return Result{}, fmt.Errorf("migrations: open database: %w", err)
	}
	defer db.Close()
	return ApplyDB(ctx, db)
}

// ApplyDB is Apply on an open database/sql handle using the pgx driver.
func ApplyDB(ctx context.Context, db *sql.DB) (Result, error) {
	p, err := newProvider(ctx, db)
	if err != nil {
		return Result{}, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("migrations: apply: %w", err)
	}
	var res Result
	for _, r := range results {
		res.Applied = append(res.Applied, r.Source.Path)
	}
	if res.Version, err = p.GetDBVersion(ctx); err != nil {
		return res, fmt.Errorf("migrations: read version: %w", err)
	}
	return res, nil
}

// Version returns the schema version recorded in the database and the newest
// version this binary knows; they differ when migrations are pending.
func Version(ctx context.Context, db *sql.DB) (current, latest int64, err error) {
	p, err := newProvider(ctx, db)
	if err != nil {
		return 0, 0, err
	}
	current, latest, err = p.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("migrations: read versions: %w", err)
	}
	return current, latest, nil
}

// Down rolls back the newest applied migration (for tests and emergencies).
func Down(ctx context.Context, db *sql.DB) error {
	p, err := newProvider(ctx, db)
	if err != nil {
		return err
	}
	if _, err := p.Down(ctx); err != nil && !errors.Is(err, goose.ErrNoNextVersion) {
		return fmt.Errorf("migrations: down: %w", err)
	}
	return nil
}

func newProvider(ctx context.Context, db *sql.DB) (*goose.Provider, error) {
	// The version table lives in the smpp schema, so the schema must exist before
	// goose looks for the table (the first migration creates it IF NOT EXISTS too).
	if err := ensureSchema(ctx, db); err != nil {
		return nil, err
	}
	// Replicas starting together wait for each other's migrations: the lock is
	// retried every second for up to 5 minutes.
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(migrateLockKey),
		lock.WithLockTimeout(1, 300),
	)
	if err != nil {
		return nil, fmt.Errorf("migrations: lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, FS(),
		goose.WithTableName(VersionTable),
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// schemaLockKey is the advisory lock that serialises ensureSchema across
// replicas (concurrent CREATE SCHEMA IF NOT EXISTS can fail on a unique
// violation). goose takes its own lock, with another key, for the migrations.
const schemaLockKey int64 = 0x736d70705f736368 // "smpp_sch"

// migrateLockKey is goose's advisory lock for the migrations themselves (not
// goose's default id, which every goose user in the database shares).
const migrateLockKey int64 = 0x736d70705f6d6967 // "smpp_mig"

// ensureSchema creates the smpp schema unless it exists. It looks first: a
// role without CREATE on the database may still migrate a schema it owns, and
// CREATE SCHEMA IF NOT EXISTS would refuse.
func ensureSchema(ctx context.Context, db *sql.DB) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrations: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", schemaLockKey); err != nil {
		return fmt.Errorf("migrations: lock: %w", err)
	}
	var exists bool
	if err := tx.QueryRowContext(ctx,
		"SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", Schema).Scan(&exists); err != nil {
		return fmt.Errorf("migrations: look up schema %s: %w", Schema, err)
	}
	if !exists {
		if _, err := tx.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+Schema); err != nil {
			return fmt.Errorf("migrations: create schema %s: %w", Schema, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrations: create schema %s: %w", Schema, err)
	}
	return nil
}
