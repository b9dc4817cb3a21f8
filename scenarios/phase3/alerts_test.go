package phase3_test

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/smpp-connector/smpp-connector/internal/ruletest"
	"github.com/smpp-connector/smpp-connector/scenarios/framework"
	"github.com/smpp-connector/smpp-connector/smscsim/api"
)

// The alert criteria of the gate fail when they should: with every bind
// of an operator down, the critical alert for it (SMPPNoBindUp) is counted.
// Its `for:` is 2 minutes, so the watch that evaluates the file as written
// sees it pending (which critical_alerts_pending_at_end counts), and a
// second watch over the same replicas evaluates a copy of the rules with
// `for:` capped at 5 s (AlertWatchOptions.CapFor) to see it fire, as the
// file's would after 2 minutes. Label negative: the spec means its alert,
// runs its own replicas on its own operator and records no criterion.
var _ = Describe("Phase 3 alert gate", Label(framework.LabelNegative), func() {
	It("counts a critical alert when every bind of an operator stays down", func(ctx SpecContext) {
		const capFor = 5 * time.Second
		smsc := framework.StartSimulator(ctx, framework.SimulatorConfig(operatorB))
		replicas := framework.StartReplicas(ctx, env, fmt.Sprintf(`operators:
  - id: mno-b
    endpoints: {primary: [{address: %q}]}
    tps: 50
`, smsc.Addr("mno-b")), 2)
		targets := framework.ReplicaTargets(replicas)
		asWritten := framework.WatchAlerts(targets, framework.AlertWatchOptions{})
		capped := framework.WatchAlerts(targets, framework.AlertWatchOptions{CapFor: capFor})

		By("waiting until the watches see one owner of mno-b with its bind up, and no SMPPNoBindUp")
		waitOneOwner(ctx, asWritten, "mno-b", len(replicas))
		waitOneOwner(ctx, capped, "mno-b", len(replicas))

		By("taking the SMSC off the air: its binds drop and no new one is accepted")
		down := time.Now()
		_, err := smsc.Client.AddFault(ctx, api.Spec{Name: "off-air", Type: "outage"})
		Expect(err).NotTo(HaveOccurred())
		noBindUp := func(fired bool) func(ruletest.Episode) bool {
			return func(e ruletest.Episode) bool {
				return e.Labels["operator"] == "mno-b" && !e.Since.Before(down) && e.Active() && e.Fired() == fired
			}
		}
		pending := asWritten.WaitForCritical(ctx, "SMPPNoBindUp", noBindUp(false))
		GinkgoWriter.Printf("as written: %s\n", pending)
		fired := capped.WaitForCritical(ctx, "SMPPNoBindUp", noBindUp(true))
		GinkgoWriter.Printf("for: capped at %s: %s\n", capFor, fired)
		Expect(fired.FiredAt.Sub(fired.Since)).To(BeNumerically(">=", capFor), "fired before its (capped) for: held")

		By("the gate's figures: the run would not pass")
		asWritten.Stop()
		firing, pendingAtEnd := asWritten.CriticalCounts()
		Expect(firing).To(BeZero(), "as written, nothing can have held for its for: yet: %v", asWritten.Episodes("critical"))
		Expect(pendingAtEnd).To(BeNumerically(">=", 1), "episodes %v", asWritten.Episodes("critical"))
		Expect(framework.GateWouldPass(framework.GateCriticalPendingAtEnd, float64(pendingAtEnd))).To(BeFalse())
		capped.Stop()
		firing, _ = capped.CriticalCounts()
		Expect(framework.GateWouldPass(framework.GateCriticalFiring, float64(firing))).To(BeFalse(), "firing %d", firing)
	})
})

// waitOneOwner waits until the watch has scraped every replica and sees
// each of the n expose operator's ownership, exactly one own it with a
// bind up, and no SMPPNoBindUp active for it: the state the rules judge,
// seen by the rules' own data before anything is asserted about them.
func waitOneOwner(ctx context.Context, w *framework.AlertWatch, operator string, n int) {
	GinkgoHelper()
	framework.EventuallyNil(ctx, func(context.Context) error {
		if err := w.Healthy(); err != nil {
			return err
		}
		for expr, want := range map[string]float64{
			`count by (operator) (smpp_operator_owner)`:                   float64(n),
			`sum by (operator) (smpp_operator_owner)`:                     1,
			`sum by (operator) (smpp_bind_state{state="bound"}) > bool 0`: 1,
		} {
			if got := valueFor(w, expr, operator); got != want {
				return fmt.Errorf("%s for %s: %v, want %v", expr, operator, got, want)
			}
		}
		for _, e := range w.Episodes("critical") {
			if e.Name == "SMPPNoBindUp" && e.Active() && e.Labels["operator"] == operator {
				return fmt.Errorf("still active: %s", e)
			}
		}
		return nil
	})
}

// valueFor is the value of expr's sample for operator (-1 when it has
// none).
func valueFor(w *framework.AlertWatch, expr, operator string) float64 {
	GinkgoHelper()
	res, err := w.Query(expr)
	Expect(err).NotTo(HaveOccurred(), expr)
	for _, s := range res {
		if s.Labels["operator"] == operator {
			return s.Value
		}
	}
	return -1
}
