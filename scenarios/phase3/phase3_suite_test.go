// Package phase3_test is the Phase 3 (cutover) gate: with the connector as
// the only dispatcher (two replicas, active and hot standby), the share of
// messages whose delivery receipt reaches sms.dlr.inbound matches the legacy
// dispatcher's (scenarios/baseline.yaml), while the SMSC sends receipts
// twice, before their submit_sm_resp, and pushes back on the submit rate;
// and no critical alert of deploy/alerts.yaml, evaluated over both replicas'
// metrics, fires or is left pending (framework.AlertWatch). A negative spec
// (label negative) shows the alert criteria fail when every bind of an
// operator is down.
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

var (
	operatorA = testenv.OperatorCredential{OperatorID: "mno-a", SystemID: "acme_mno_a", Password: "pa55wdA1"}
	// operatorB is the negative spec's (alerts_test.go), so that its
	// replicas never contend with the gate run's for mno-a's lease.
	operatorB = testenv.OperatorCredential{OperatorID: "mno-b", SystemID: "acme_mno_b", Password: "pa55wdB2"}
)

var env = framework.SetupSuite("phase3", framework.WithOperators(operatorA, operatorB))

func TestPhase3(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Phase 3: cutover", Label(framework.LabelPhase3))
}
