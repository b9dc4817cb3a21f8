package secrets

import (
	"os"
	"testing"

	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
)

// env is the real Vault (a dev server in a container, or the one
// SMPP_TEST_ENV=external names) that the Vault tests run against.
var env *testenv.TestEnv

func TestMain(m *testing.M) {
	os.Exit(testenv.RunWithServices(m, testenv.Services{Vault: true}, &env))
}
