// Package phase2_test is the Phase 2 (shadow run) gate: the connector, in
// shadow mode against the simulated SMSC, gets submit_sm accepted as often as
// the legacy dispatcher did (scenarios/baseline.yaml), never exceeds the
// operator's TPS as the operator counts it, stores every receipt the SMSC
// sent on the part the SMSC gave its id to (multipart messages, receipts
// before their submit_sm_resp), and publishes no receipt.
//
//	go test ./scenarios/phase2/ -v          (or: ginkgo --label-filter=phase2 ./scenarios/...)
package phase2_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/smpp-connector/smpp-connector/scenarios/framework"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
)

var operatorA = testenv.OperatorCredential{OperatorID: "mno-a", SystemID: "acme_mno_a", Password: "pa55wdA1"}

var env = framework.SetupSuite("phase2", framework.WithOperators(operatorA))

func TestPhase2(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Phase 2: shadow run", Label(framework.LabelPhase2))
}
