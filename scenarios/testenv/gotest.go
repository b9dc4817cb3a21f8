package testenv

import (
	"context"
	"fmt"
	"os"
	"strings"
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
//	var env *testenv.TestEnv
//	func TestMain(m *testing.M) { os.Exit(testenv.RunWithServices(m, testenv.Services{Postgres: true}, &env)) }
//
// With no Docker engine it fails at once, saying what to do.
//
// A fuzzing run (go test -fuzz, and the worker processes it starts) starts
// no services: fuzz targets test pure functions, and each worker would
// start its own containers; a test that needs env fails saying it is nil.
func RunWithServices(m *testing.M, s Services, env **TestEnv) int {
	if fuzzing() {
		return m.Run()
	}
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

// fuzzing reports whether the test binary runs a fuzz target (-test.fuzz,
// or a worker of one: -test.fuzzworker).
func fuzzing() bool {
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(a, "-test.fuzz=") || strings.HasPrefix(a, "-test.fuzzworker") {
			return true
		}
	}
	return false
}

// cleanupTimeout bounds dropping a test database.
const cleanupTimeout = 2 * time.Minute

// TB is the part of testing.TB that FreshDatabase needs; Ginkgo's GinkgoT()
// has it too, so Ginkgo specs run by `go test` (the migrations suite) get
// their databases the same way.
type TB interface {
	Helper()
	Name() string
	Fatal(args ...any)
	Logf(format string, args ...any)
	Cleanup(func())
}

// FreshDatabase creates an empty database for one test, with the project's
// migrations applied when migrate is true; it is dropped when the test ends.
func (e *TestEnv) FreshDatabase(t TB, migrate bool) string {
	t.Helper()
	if e == nil || e.PostgresDSN == "" {
		t.Fatal("no PostgreSQL in this test environment: start it with RunWithServices(Services{Postgres: true})")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn, drop, err := CreateDatabase(ctx, e.PostgresDSN, DatabaseName(t.Name()))
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
		if _, err := ApplyMigrations(ctx, dsn); err != nil {
			t.Fatal(err)
		}
	}
	return dsn
}
