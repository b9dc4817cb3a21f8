package phase3_test

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/smpp-connector/smpp-connector/scenarios/framework"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
)

var _ = Describe("Phase 3 cutover", func() {
	It("publishes the receipts of as many messages as the legacy dispatcher did, each once", func(ctx SpecContext) {
		const n, tps = framework.GateMessages, framework.GateTPS
		baseline := framework.LoadBaseline()
		mix := baseline.Mix(n)
		By("shaping the SMSC to the baseline, with duplicate, early and late receipts and push-back")
		smsc := framework.StartBaselineSMSC(ctx, env, operatorA.OperatorID, "mno-a-smsc", tps, framework.PushBack,
			faults.Spec{Name: "twice", Type: "receipt_duplicate", Probability: 0.1},
			faults.Spec{Name: "early", Type: "receipt_early", Probability: 0.05},
			faults.Spec{Name: "late", Type: "receipt_delay", Params: json.RawMessage(`{"distribution":{"kind":"uniform","min":"0s","max":"500ms"}}`)})
		framework.StartConnector(ctx, env, fmt.Sprintf(`operators:
  - id: mno-a
    endpoints: {primary: [{address: %q}]}
    tps: %d
`, smsc.Addr("mno-a-smsc"), tps))

		prefix := fmt.Sprintf("p3-%d", time.Now().UnixNano())
		By(fmt.Sprintf("dispatching %d commands (%d rejected, %d whose receipt the SMSC loses)", n, mix.Rejected, mix.NoReceipt))
		framework.PublishMix(ctx, env, "mno-a", prefix, mix)
		outcomes := framework.StoredOutcomes(ctx, env, prefix, n, 2*time.Minute)
		accepted := outcomes["accepted"]
		Expect(accepted).To(BeNumerically(">", 0), "outcomes %v", outcomes)

		By("collecting the receipts published on sms.dlr.inbound")
		want := accepted - mix.NoReceipt
		// Until every expected receipt is in, or none has come for 5 s (then
		// the gate reports the shortfall).
		receipts := map[string]int{}
		for last, grew := 0, time.Now(); len(receipts) < want && time.Since(grew) < 5*time.Second; time.Sleep(500 * time.Millisecond) {
			receipts = framework.ReceiptEvents(ctx, env, prefix)
			if len(receipts) > last {
				last, grew = len(receipts), time.Now()
			}
		}
		time.Sleep(time.Second) // late extras would show now
		receipts = framework.ReceiptEvents(ctx, env, prefix)
		twice, misattributed := 0, 0
		for id, c := range receipts {
			if c > 1 {
				twice++
			}
			// Only messages to the ordinary range may have a receipt: one
			// published for a message whose receipt the SMSC lost (or that
			// it rejected) belongs to another message.
			i, err := strconv.Atoi(strings.TrimPrefix(id, prefix+"-"))
			Expect(err).NotTo(HaveOccurred(), id)
			if d := mix.Destination(i); strings.HasPrefix(d, framework.RejectPrefix) || strings.HasPrefix(d, framework.NoReceiptPrefix) {
				misattributed++
			}
		}
		rate := 100 * float64(len(receipts)) / float64(accepted)
		GinkgoWriter.Printf("outcomes %v; receipts for %d messages (%d published twice): %.2f%%, baseline %.2f%%\n",
			outcomes, len(receipts), twice, rate, baseline.ReceiptRate)
		Expect(framework.CheckGate("receipt_rate_delta", math.Round(100*(rate-baseline.ReceiptRate))/100).Pass).To(BeTrue(),
			"receipt rate %.2f%% vs the baseline's %.2f%%", rate, baseline.ReceiptRate)
		Expect(twice).To(BeZero(), "receipts published twice for one message")
		Expect(misattributed).To(BeZero(), "receipts published for messages that have none")
	})
})
