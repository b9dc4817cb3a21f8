// Package phase1_test is the Phase 1 (infrastructure) gate: it proves that the
// environment the later phases build on works end to end - PostgreSQL with the
// smpp migrations, operator credentials in Vault, and the NATS JetStream
// streams of the dispatch and receipt contracts.
//
//	go test ./scenarios/phase1/ -v          (or: ginkgo --label-filter=phase1 ./scenarios/...)
package phase1_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/smpp-connector/smpp-connector/scenarios/framework"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
)

// Operators seeded into Vault. SMPP 3.4 limits system_id to 15 and password to
// 8 characters (C-Octet Strings of 16 and 9).
var (
	operatorA = testenv.OperatorCredential{OperatorID: "mno-a", SystemID: "acme_mno_a", Password: "pa55wdA1"}
	operatorB = testenv.OperatorCredential{OperatorID: "mno-b", SystemID: "acme_mno_b", Password: "pa55wdB1", SystemType: "SMS"}
)

var env = framework.SetupSuite("phase1", framework.WithOperators(operatorA, operatorB))

func TestPhase1(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Phase 1: infrastructure", Label(framework.LabelPhase1))
}
