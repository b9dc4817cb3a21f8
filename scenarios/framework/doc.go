// Package framework is the common ground of the scenario suites (DESIGN.md
// section 5): it provides the backing services (PostgreSQL, Vault, NATS with
// JetStream) through an environment provider, prepares per-suite fixtures on
// them, offers polling helpers and label constants, and turns the criteria the
// suites measure into the phase gate reports (JUnit XML, a summary JSON and a
// table).
//
// A suite registers everything with one call, at package level:
//
//	var env = framework.SetupSuite("phase1", framework.WithOperators(...))
//
// and then uses env (filled in before the first spec runs) in its specs:
// env.Postgres(ctx), env.Vault(), env.JetStream(ctx), env.Operators.
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
//	SMPP_REPORT_DIR            where reports go (default reports/ under the repo root)
//	SMPP_GATES_FILE            gate thresholds (default scenarios/gates.yaml)
//	TESTCONTAINERS_RYUK_DISABLED  set to true by the containers provider when unset
//
// The default images are local look-alikes built by ci/build-images.sh
// (`make images`); setting the variables to the official images (postgres:15,
// hashicorp/vault:1.21, nats:2.12) works wherever a registry can be reached.
package framework
