// Package phase4_test is the Phase 4 (hardening) gate: the connector keeps
// traffic flowing through an operator's backup SMSC while the primary is
// down, and loses and duplicates nothing.
package phase4_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/smpp-connector/smpp-connector/scenarios/framework"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
)

var operatorA = testenv.OperatorCredential{OperatorID: "mno-a", SystemID: "acme_mno_a", Password: "pa55wdA1"}

var env = framework.SetupSuite("phase4", framework.WithOperators(operatorA))

func TestPhase4(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Phase 4: hardening", Label(framework.LabelPhase4))
}
