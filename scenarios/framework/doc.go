// Package framework is the Ginkgo harness of the scenario suites (DESIGN.md
// section 5): on top of the test environment (scenarios/testenv: providers,
// fresh databases, Vault seeding, the NATS contract's streams) it sets a
// suite's environment up once and tears it down with DeferCleanup, runs the
// suites' fixtures (the simulated SMSCs and the connector itself), offers the
// Ginkgo-flavoured polling helpers and the label constants, and turns the
// criteria the suites measure into the phase gate reports (JUnit XML, a
// summary JSON and a table) checked against scenarios/gates.yaml and the
// baseline.
//
// A suite registers everything with one call, at package level:
//
//	var env = framework.SetupSuite("phase1", framework.WithOperators(...))
//
// and then uses env (filled in before the first spec runs) in its specs:
// env.Postgres(ctx), env.Vault(), env.JetStream(ctx), env.Operators.
//
// The connector's own package tests do not use this package (it imports the
// connector, for its fixture): they use testenv directly.
//
// Environment variables, besides testenv's (SMPP_TEST_ENV and the images and
// endpoints it names):
//
//	SMPP_REPORT_DIR            where reports go (default reports/ under the repo root)
//	SMPP_GATES_FILE            gate thresholds (default scenarios/gates.yaml)
package framework
