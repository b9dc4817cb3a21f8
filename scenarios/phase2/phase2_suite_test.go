// Package phase2_test is the Phase 2 (shadow run) gate: the connector, in
// shadow mode against the simulated SMSC, gets submit_sm accepted as often as
// the legacy dispatcher did (scenarios/baseline.yaml), never exceeds the
// operator's TPS as the operator counts it, stores every receipt the SMSC
// sent on the part the SMSC gave its id to (multipart messages, receipts
// before their submit_sm_resp), publishes no receipt, and logs the same
// submit outcome as the legacy dispatcher for every message: the connector's
// outcomes, exported with connector/compare/export.sql, against the legacy
// log written from what the SMSC answered (connector/compare). A negative
// spec (label negative) flips 1% of that log and sees the gate fail.
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
