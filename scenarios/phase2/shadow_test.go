package phase2_test

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/smpp-connector/smpp-connector/scenarios/framework"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
)

var _ = Describe("Phase 2 shadow run", func() {
	It("gets submits accepted like the legacy dispatcher, within the operator's TPS, publishing no receipt", func(ctx SpecContext) {
		const n, tps = framework.GateMessages, framework.GateTPS
		baseline := framework.LoadBaseline()
		mix := baseline.Mix(n)
		By("shaping the SMSC to the baseline's outcomes, and making it push back and answer slowly")
		smsc := framework.StartBaselineSMSC(ctx, env, operatorA.OperatorID, "shadow-smsc", tps, framework.PushBack,
			faults.Spec{Name: "slow", Type: "latency", Params: json.RawMessage(`{"distribution":{"kind":"uniform","min":"1ms","max":"30ms"}}`),
				Match: faults.Match{Command: "submit_sm"}})

		By("starting the connector in shadow mode: the live endpoint is never dialled")
		framework.StartShadowConnector(ctx, env, fmt.Sprintf(`operators:
  - id: mno-a
    endpoints: {primary: [{address: "127.0.0.1:1"}, {address: %q, shadow: true}]}
    tps: %d
`, smsc.Addr("shadow-smsc"), tps))

		prefix := fmt.Sprintf("p2-%d", time.Now().UnixNano())
		By(fmt.Sprintf("shadowing %d dispatch commands (%d to rejected destinations)", n, mix.Rejected))
		framework.PublishMix(ctx, env, "mno-a", prefix, mix)
		outcomes := framework.StoredOutcomes(ctx, env, prefix, n, 2*time.Minute)
		success := 100 * float64(outcomes["accepted"]) / float64(n)
		GinkgoWriter.Printf("outcomes %v: %.2f%% accepted, baseline %.2f%%\n", outcomes, success, baseline.SubmitSuccess)
		var breaches uint64
		for _, r := range smsc.Sim.Meter.Reports(time.Now()) {
			breaches += r.Breaches
		}
		// Both measured before either is asserted: the report shows both.
		successGate := framework.CheckGate("submit_success_rate", math.Round(10000*success/baseline.SubmitSuccess)/100)
		breachGate := framework.CheckGate("tps_breaches", float64(breaches))
		Expect(successGate.Pass).To(BeTrue(), "accepted %.2f%% of submits, the baseline %.2f%% (%v)", success, baseline.SubmitSuccess, outcomes)
		Expect(breachGate.Pass).To(BeTrue(), "TPS breaches: %d", breaches)
		// The SMSC's push-back must be retried, never turned into a rejection.
		Expect(framework.ThrottleRejections(ctx, env, prefix)).To(BeZero(), "messages given up on ESME_RTHROTTLED")

		Expect(framework.ReceiptEvents(ctx, env, prefix)).To(BeEmpty(), "receipts published in shadow mode")
	})
})
