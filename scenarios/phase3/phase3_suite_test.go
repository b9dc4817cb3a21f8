// Package phase3_test is the Phase 3 (cutover) gate: with the connector as
// the only dispatcher, the share of messages whose delivery receipt reaches
// sms.dlr.inbound matches the legacy dispatcher's (scenarios/baseline.yaml),
// while the SMSC sends receipts twice, before their submit_sm_resp, and
// pushes back on the submit rate.
//
//	go test ./scenarios/phase3/ -v          (or: ginkgo --label-filter=phase3 ./scenarios/...)
package phase3_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/smpp-connector/smpp-connector/scenarios/framework"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
)

var operatorA = testenv.OperatorCredential{OperatorID: "mno-a", SystemID: "acme_mno_a", Password: "pa55wdA1"}

var env = framework.SetupSuite("phase3", framework.WithOperators(operatorA))

func TestPhase3(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Phase 3: cutover", Label(framework.LabelPhase3))
}
