package secrets

import (
	"os"
	"testing"

	"github.com/smpp-connector/smpp-connector/scenarios/framework"
)

// env is the real Vault (a dev server in a container, or the one
// SMPP_TEST_ENV=external names) that the Vault tests run against.
var env *framework.TestEnv

func TestMain(m *testing.M) {
	os.Exit(framework.RunWithServices(m, framework.Services{Vault: true}, &env))
}
