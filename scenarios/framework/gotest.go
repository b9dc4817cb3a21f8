package framework

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// TestEnv gives plain `go test` integration tests (next to the code, outside
// the Ginkgo suites) the same real services: started once per test binary by
// RunWithServices from TestMain, reached through Endpoints, stopped at exit.
type TestEnv struct {
	Endpoints
	provider Provider
}

// RunWithServices starts the services, runs the package's tests and stops the
// services whatever happens. Use it as:
//
//	var env *framework.TestEnv
//	func TestMain(m *testing.M) { os.Exit(framework.RunWithServices(m, framework.Services{Postgres: true}, &env)) }
//
// With no Docker engine it fails at once, saying what to do.
func RunWithServices(m *testing.M, s Services, env **TestEnv) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	p, err := ProviderFromEnv(NewSessionID())
	if err != nil {
		cancel()
		fmt.Fprintln(os.Stderr, "test environment:", err)
		return 1
	}
	e, err := p.Start(ctx, s)
	cancel()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := p.Stop(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "test environment: stop:", err)
		}
	}()
	if err != nil {
		fmt.Fprintf(os.Stderr, "test environment (%s): %v\n", s, err)
		return 1
	}
	*env = &TestEnv{Endpoints: e, provider: p}
	return m.Run()
}

// FreshDatabase creates an empty database for one test, with the project's
// migrations applied when migrate is true; it is dropped when the test ends.
func (e *TestEnv) FreshDatabase(t testing.TB, migrate bool) string {
	t.Helper()
	if e == nil || e.PostgresDSN == "" {
		t.Fatal("no PostgreSQL in this test environment: start it with RunWithServices(Services{Postgres: true})")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn, drop, err := createDatabase(ctx, e.PostgresDSN, databaseName(t.Name()))
	if drop != nil {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
			defer cancel()
			if err := drop(ctx); err != nil {
				t.Logf("drop test database: %v", err)
			}
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	if migrate {
		if _, err := applyMigrations(ctx, dsn); err != nil {
			t.Fatal(err)
		}
	}
	return dsn
}
