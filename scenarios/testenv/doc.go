// Package testenv is the environment the tests run in: real PostgreSQL,
// Vault and NATS with JetStream, through an environment provider (containers
// started with testcontainers-go, or services that already run, named by
// SMPP_TEST_* variables), fresh databases with the migrations applied, Vault
// seeding, the NATS contract's streams, and an embedded nats-server. It
// serves the connector's plain `go test` packages (RunWithServices from
// TestMain, then TestEnv.FreshDatabase), the Ginkgo gate suites (through
// scenarios/framework, which builds on it) and the demo stack
// (cmd/smpp-stack). It knows neither Ginkgo nor the connector's service, so
// that the connector's own tests can use it; the production connector imports
// none of it, so it does not link nats-server or testcontainers-go.
//
//	var env *testenv.TestEnv
//	func TestMain(m *testing.M) { os.Exit(testenv.RunWithServices(m, testenv.Services{Postgres: true}, &env)) }
//
// Environment variables (all optional):
//
//	SMPP_TEST_ENV              containers (default) or external
//	SMPP_POSTGRES_IMAGE        image of PostgreSQL (default smpp-ci/postgres:15)
//	SMPP_VAULT_IMAGE           image of Vault (default smpp-ci/vault:1.21.1)
//	SMPP_NATS_IMAGE            image of NATS (default smpp-ci/nats:2.12.0)
//	SMPP_TEST_POSTGRES_DSN     external: DSN of a role that may CREATE DATABASE
//	SMPP_TEST_POSTGRES_REUSE_DB=true  external: migrate and use the DSN's own database
//	SMPP_TEST_VAULT_ADDR       external: Vault address
//	SMPP_TEST_VAULT_TOKEN      external: Vault token
//	SMPP_TEST_VAULT_KV_MOUNT   KV v2 mount (default secret)
//	SMPP_TEST_NATS_URL         external: NATS URL
//	TESTCONTAINERS_RYUK_DISABLED  set to true by the containers provider when unset
//
// The default images are local look-alikes built by ci/build-images.sh
// (`make images`); setting the variables to the official images (postgres:15,
// hashicorp/vault:1.21, nats:2.12) works wherever a registry can be reached.
package testenv
