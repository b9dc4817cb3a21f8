package migrations_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/smpp-connector/smpp-connector/scenarios/framework"
)

// The migrations run against a real PostgreSQL, started by the scenario
// framework (containers provider by default; SMPP_TEST_ENV=external works too).
var env = framework.SetupSuite("migrations", framework.WithServices(framework.Services{Postgres: true}))

func TestMigrations(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "migrations")
}
