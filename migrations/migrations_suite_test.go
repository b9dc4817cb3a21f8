package migrations_test

import (
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
)

// The migrations run against a real PostgreSQL, started by the test
// environment (containers provider by default; SMPP_TEST_ENV=external works
// too) once for the test binary.
var env *testenv.TestEnv

// suiteDSN reaches the suite's own database, migrated before the first spec.
var suiteDSN string

func TestMain(m *testing.M) {
	os.Exit(testenv.RunWithServices(m, testenv.Services{Postgres: true}, &env))
}

var _ = BeforeSuite(func() {
	suiteDSN = env.FreshDatabase(GinkgoT(), true)
})

func TestMigrations(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "migrations")
}
