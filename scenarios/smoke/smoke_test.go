package smoke

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/scenarios/smoke/smokeenv"
	"github.com/smpp-connector/smpp-connector/smscsim/api"
)

// Texts: a short GSM one, a long one (three parts in GSM 7-bit), and one
// that needs UCS2.
var (
	shortText = "smoke test: short message"
	longText  = strings.Repeat("smoke test, long message in several parts. ", 10)
	ucs2Text  = "smoke test: Привет, 你好 ✓"
)

// describeOperator registers the specs of one operator under test; ordered,
// because once it is not ready the rest can only time out.
func describeOperator(index int, op smokeenv.Operator) {
	Describe("operator "+op.ID, Ordered, func() {
		It("is ready on exactly one connector replica, the owner", func(ctx SpecContext) {
			var owners []string
			Eventually(func(g Gomega) {
				owners = owners[:0]
				for _, u := range cfg.ConnectorURLs {
					if owns(ctx, g, u, op.ID) {
						owners = append(owners, u)
					}
				}
				g.Expect(owners).NotTo(BeEmpty(), "no replica owns %s with its binds up", op.ID)
			}).WithContext(ctx).WithTimeout(cfg.Timeout).WithPolling(time.Second).Should(Succeed())
			// The lease makes one owner: two would both bind and send.
			Expect(owners).To(HaveLen(1), "replicas owning %s", op.ID)
			fmt.Fprintf(GinkgoWriter, "%s is owned by %s\n", op.ID, owners[0])
		}, SpecTimeout(cfg.Timeout+time.Minute))

		It("returns every receipt of a short, a long (multipart) and a UCS2 message", func(ctx SpecContext) {
			prefix := fmt.Sprintf("%s-%s-texts-", runs, op.ID)
			dest := destPrefix(index, 1)
			w := startWatch(ctx, op.ID, prefix)
			ids := []string{prefix + "short", prefix + "long", prefix + "ucs2"}
			publish(ctx, op, ids[0], dest+"001", shortText)
			publish(ctx, op, ids[1], dest+"002", longText)
			publish(ctx, op, ids[2], dest+"003", ucs2Text)
			w.waitReceipts(ctx, op, "texts", ids)
			Expect(w.partsOf(ids[0])).To(Equal(1), "parts of the short message")
			Expect(w.partsOf(ids[1])).To(BeNumerically(">", 1), "parts of the long message")
			Expect(w.partsOf(ids[2])).To(Equal(1), "parts of the UCS2 message")
			// The SMSC saw the UCS2 text as UCS2 (data_coding 8).
			pdus, err := sim.PDUs(ctx, api.Filter{Operator: op.SimOperator, Command: "submit_sm", DestPrefix: dest + "003"})
			Expect(err).NotTo(HaveOccurred())
			Expect(pdus.Records).NotTo(BeEmpty(), "submit_sm of %s at the simulator", ids[2])
			for _, r := range pdus.Records {
				Expect(r.DataCoding).To(Equal(byte(8)), "data_coding of %s", ids[2])
			}
		}, SpecTimeout(cfg.Timeout+time.Minute))

		It("absorbs an SMSC throttle: every message gets its receipt, none twice", func(ctx SpecContext) {
			// Far below the operator's contract, so that a burst trips it.
			burst(ctx, index, 2, op, "throttle", 30, api.Spec{Type: "throttle",
				Params: json.RawMessage(`{"tps":5,"status":"ESME_RTHROTTLED"}`), Match: api.Match{Command: "submit_sm"}})
		}, SpecTimeout(cfg.Timeout+time.Minute))

		It("absorbs delayed receipts: every message gets its receipt, none twice", func(ctx SpecContext) {
			burst(ctx, index, 3, op, "receipt-delay", 20, api.Spec{Type: "receipt_delay",
				Params: json.RawMessage(`{"distribution":{"kind":"uniform","min":"2s","max":"8s"}}`)})
		}, SpecTimeout(cfg.Timeout+time.Minute))
	})
}

// burst adds a fault limited to a destination range of this run's own (and
// removed when the spec ends), sends n messages into it, one in five long,
// checks every receipt came exactly once and that the fault did act.
func burst(ctx context.Context, index, c int, op smokeenv.Operator, name string, n int, spec api.Spec) {
	GinkgoHelper()
	prefix := fmt.Sprintf("%s-%s-%s-", runs, op.ID, name)
	dest := destPrefix(index, c)
	spec.Name = fmt.Sprintf("%s-%s-%s", runs, op.ID, name)
	spec.Match.Operator, spec.Match.DestinationPrefix = op.SimOperator, dest
	_, err := sim.AddFault(ctx, spec)
	Expect(err).NotTo(HaveOccurred(), "add fault %s", spec.Name)
	DeferCleanup(func(ctx SpecContext) {
		Expect(sim.RemoveFault(ctx, spec.Name)).To(Succeed(), "remove fault %s", spec.Name)
	})
	w := startWatch(ctx, op.ID, prefix)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s%03d", prefix, i)
		text := fmt.Sprintf("%s %d", shortText, i)
		if i%5 == 4 {
			text = longText
		}
		publish(ctx, op, ids[i], fmt.Sprintf("%s%03d", dest, i), text)
	}
	w.waitReceipts(ctx, op, strings.ReplaceAll(name, "-", "_"), ids)
	f, err := sim.GetFault(ctx, spec.Name)
	Expect(err).NotTo(HaveOccurred())
	Expect(f.Hits).To(BeNumerically(">", 0), "the %s fault never acted: the spec tested nothing", name)
	fmt.Fprintf(GinkgoWriter, "%s: fault %s acted %d times; %d messages, every receipt once\n", op.ID, name, f.Hits, n)
}

// publish sends a dispatch command, as sms-orchestrator does.
func publish(ctx context.Context, op smokeenv.Operator, id, dest, text string) {
	GinkgoHelper()
	cmd, err := json.Marshal(map[string]any{
		"messageId": id, "operatorId": op.ID,
		"source":      map[string]any{"addr": "SMOKE", "ton": 5, "npi": 0},
		"destination": map[string]any{"addr": dest, "ton": 1, "npi": 1},
		"text":        text, "encoding": "auto", "registeredDelivery": true,
	})
	Expect(err).NotTo(HaveOccurred())
	_, err = js.Publish(ctx, natscontract.DispatchSubjectFor(op.ID), cmd)
	Expect(err).NotTo(HaveOccurred(), "publish %s", id)
}

// owns reports whether the connector at base owns operator with it ready:
// smpp_operator_owner is 1 and /readyz is ready, without the operator on its
// standby list or among its problems.
func owns(ctx context.Context, g Gomega, base, operator string) bool {
	metrics, _, err := get(ctx, base+"/metrics")
	g.Expect(err).NotTo(HaveOccurred())
	owner := regexp.MustCompile(`(?m)^smpp_operator_owner\{[^}]*operator="` + regexp.QuoteMeta(operator) + `"[^}]*\} 1$`)
	if !owner.MatchString(metrics) {
		return false
	}
	body, code, err := get(ctx, base+"/readyz")
	g.Expect(err).NotTo(HaveOccurred())
	var r struct {
		Ready    bool              `json:"ready"`
		Problems map[string]string `json:"problems"`
		Standby  []string          `json:"standby"`
	}
	g.Expect(json.Unmarshal([]byte(body), &r)).To(Succeed(), "/readyz of %s: %s", base, body)
	_, problem := r.Problems[operator]
	g.Expect(problem).To(BeFalse(), "%s owns %s but /readyz (%d) says: %s", base, operator, code, body)
	g.Expect(r.Ready).To(BeTrue(), "%s owns %s but /readyz (%d) says: %s", base, operator, code, body)
	g.Expect(r.Standby).NotTo(ContainElement(operator), "%s: owner and standby of %s at once", base, operator)
	return true
}

func get(ctx context.Context, url string) (string, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", 0, err
	}
	resp, err := web.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode, err
}
