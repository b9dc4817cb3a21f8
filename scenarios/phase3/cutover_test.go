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

	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/scenarios/framework"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
)

var _ = Describe("Phase 3 cutover", func() {
	It("publishes the receipts of as many messages as the legacy dispatcher did, each once, with no critical alert", func(ctx SpecContext) {
		const n, tps = framework.GateMessages, framework.GateTPS
		baseline := framework.LoadBaseline()
		mix := baseline.Mix(n)
		By("shaping the SMSC to the baseline, with duplicate, early and late receipts and push-back")
		smsc := framework.StartBaselineSMSC(ctx, env, operatorA.OperatorID, "mno-a-smsc", tps, framework.PushBack,
			faults.Spec{Name: "twice", Type: "receipt_duplicate", Probability: 0.1},
			faults.Spec{Name: "early", Type: "receipt_early", Probability: 0.05},
			faults.Spec{Name: "late", Type: "receipt_delay", Params: json.RawMessage(`{"distribution":{"kind":"uniform","min":"0s","max":"500ms"}}`)})
		By("starting two connector replicas, active and hot standby, and the alert watch over both")
		replicas := framework.StartReplicas(ctx, env, fmt.Sprintf(`operators:
  - id: mno-a
    endpoints: {primary: [{address: %q}]}
    tps: %d
`, smsc.Addr("mno-a-smsc"), tps), 2)
		alerts := framework.WatchAlerts(framework.ReplicaTargets(replicas), framework.AlertWatchOptions{})
		waitOneOwner(ctx, alerts, "mno-a", len(replicas))

		prefix := fmt.Sprintf("p3-%d", time.Now().UnixNano())
		By(fmt.Sprintf("dispatching %d commands (%d rejected, %d whose receipt the SMSC loses)", n, mix.Rejected, mix.NoReceipt))
		framework.PublishMix(ctx, env, "mno-a", prefix, mix)
		outcomes := framework.StoredOutcomes(ctx, env, prefix, n, 2*time.Minute)
		accepted := outcomes["accepted"]
		Expect(accepted).To(BeNumerically(">", 0), "outcomes %v", outcomes)

		By("waiting until neither the SMSC nor the connector has a receipt left to send or publish")
		// The barrier, instead of waiting for the count to stop growing and
		// then sleeping for late extras. What is ordered: the connector
		// publishes a matched receipt (JetStream acks it) before it answers
		// the deliver_sm, and publishes the receipts held for a part before
		// it acks that part's command. So once the SMSC has nothing queued,
		// scheduled or in flight and has had an ESME_ROK for every receipt
		// it generated (one answered ESME_RX_T_APPN is sent again), and the
		// connector has acked every command, no publication is still to
		// come: the stream holds all the receipts it will ever hold.
		settled(ctx, smsc, "mno-a-smsc")
		Eventually(func(g Gomega) {
			info, err := env.JetStream().Consumer(ctx, natscontract.DispatchStream, natscontract.ConsumerName("mno-a"))
			g.Expect(err).NotTo(HaveOccurred())
			ci, err := info.Info(ctx)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(ci.NumPending+uint64(ci.NumAckPending)).To(BeZero(), "commands not yet acked")
		}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(100 * time.Millisecond).Should(Succeed())

		By("evaluating the critical alerts at the end of the run")
		alertsOK := alerts.CheckGates() // asserted last, so that the receipt figures are measured too

		By("collecting the receipts published on sms.dlr.inbound")
		receipts := framework.ReceiptEvents(ctx, env, prefix)
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
		Expect(alertsOK).To(BeTrue(), "critical alerts during the run: %v", alerts.Episodes("critical"))
	})
})

// settled waits until the simulated SMSC operator has no receipt queued,
// scheduled or awaiting its deliver_sm_resp, and has had an ESME_ROK for
// every receipt it generated (an unexpected deliver_sm_resp, the answer to
// an early receipt sent past a full window, counts too). Two snapshots in a
// row must agree, so that a receipt between being generated and counted
// cannot slip through.
func settled(ctx SpecContext, smsc *framework.Simulator, operator string) {
	GinkgoHelper()
	agreed := 0
	Eventually(func(g Gomega) {
		snap, err := smsc.Client.Stats(ctx)
		g.Expect(err).NotTo(HaveOccurred())
		var generated, answered uint64
		for _, c := range snap.Counts {
			switch {
			case c.Operator != operator:
			case c.Command == "receipt" && c.Outcome != "dropped_by_fault":
				generated += c.Count
			case c.Command == "receipt_resp" && c.Outcome == "ESME_ROK",
				(c.Command == "deliver_sm_resp" || c.Command == "generic_nack") && c.Outcome == "unexpected":
				answered += c.Count
			}
		}
		queued := 0
		for _, n := range snap.Queues[operator] {
			queued += n
		}
		outstanding := 0
		for _, ss := range snap.Sessions {
			if ss.Operator == operator {
				outstanding += ss.Outstanding
			}
		}
		ok := generated > 0 && queued == 0 && snap.Scheduled[operator] == 0 && outstanding == 0 && answered >= generated
		if !ok {
			agreed = 0
		} else {
			agreed++
		}
		g.Expect(agreed).To(BeNumerically(">=", 2), "receipts generated %d, answered %d; queued %d, scheduled %d, in flight %d",
			generated, answered, queued, snap.Scheduled[operator], outstanding)
		GinkgoWriter.Printf("SMSC settled: %d receipts generated, %d answered\n", generated, answered)
	}).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(100 * time.Millisecond).Should(Succeed())
}
