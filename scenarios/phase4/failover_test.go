package phase4_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/scenarios/framework"
	"github.com/smpp-connector/smpp-connector/smscsim/api"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
)

var _ = Describe("Phase 4 failover", Label(framework.LabelSlow), func() {
	It("moves traffic to the backup SMSC during a primary outage, losing and duplicating nothing", func(ctx SpecContext) {
		met := framework.GateCondition("failover")
		const n = 300
		cred := env.Operator(operatorA.OperatorID)
		acct := []server.AccountConfig{{SystemID: cred.SystemID, Password: cred.Password}}
		smsc := framework.StartSimulator(ctx, server.Config{Operators: []server.OperatorConfig{
			{ID: "primary", Listen: "127.0.0.1:0", Accounts: acct},
			{ID: "backup", Listen: "127.0.0.1:0", Accounts: acct},
		}})
		By("starting the connector with its credentials in Vault")
		framework.StartConnector(ctx, env, fmt.Sprintf(`operators:
  - id: mno-a
    endpoints: {primary: [{address: %q}], backup: [{address: %q}]}
    tps: 100
    rebind: {initial: 100ms, max: 1s}
    responseTimeout: 2s
`, smsc.Addr("primary"), smsc.Addr("backup")))

		By(fmt.Sprintf("publishing %d commands at the operator's 100 TPS", n))
		js := env.JetStream()
		start := time.Now()
		for i := 0; i < n; i++ {
			framework.PublishCommand(ctx, env, "mno-a", fmt.Sprintf("p4-%d-%d", start.UnixNano(), i), fmt.Sprintf("failover %d", i))
		}

		By("taking the primary SMSC down once traffic flows")
		Eventually(func() uint64 { return smsc.Sim.Stats().Sum("primary", "", "submit_sm", "ESME_ROK") }).
			WithContext(ctx).WithTimeout(20 * time.Second).Should(BeNumerically(">=", 50))
		_, err := smsc.Client.AddFault(ctx, api.Spec{Name: "primary-outage", Type: "outage", Match: api.Match{Operator: "primary"}})
		Expect(err).NotTo(HaveOccurred())

		By("collecting one outcome per message")
		outcomes := map[string]string{}
		cons, err := js.OrderedConsumer(ctx, natscontract.EventsStream, jetstream.OrderedConsumerConfig{
			FilterSubjects: []string{natscontract.OutcomeSubjectFor("mno-a")}, DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &start})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func(g Gomega) {
			batch, err := cons.FetchNoWait(500)
			g.Expect(err).NotTo(HaveOccurred())
			for m := range batch.Messages() {
				var o map[string]any
				g.Expect(json.Unmarshal(m.Data(), &o)).To(Succeed())
				outcomes[o["messageId"].(string)] = o["outcome"].(string)
			}
			g.Expect(outcomes).To(HaveLen(n))
		}).WithContext(ctx).WithTimeout(60 * time.Second).Should(Succeed())

		onPrimary := smsc.Sim.Stats().Sum("primary", "", "submit_sm", "")
		onBackup := smsc.Sim.Stats().Sum("backup", "", "submit_sm", "ESME_ROK")
		accepted, unknown := 0, 0
		for _, o := range outcomes {
			switch o {
			case "accepted":
				accepted++
			case "unknown":
				unknown++ // in flight when the primary vanished: reported, never resent
			}
		}
		GinkgoWriter.Printf("primary %d submit_sm, backup %d accepted, outcomes: %d accepted, %d unknown\n", onPrimary, onBackup, accepted, unknown)
		Expect(onBackup).To(BeNumerically(">", 0), "no traffic reached the backup")
		Expect(accepted + unknown).To(Equal(n))
		// Every accepted part reached an SMSC once; a part reported unknown may
		// have died on the wire with the primary's connection.
		Expect(int(onPrimary+onBackup)).To(BeNumerically("<=", n), "a part was submitted twice")
		Expect(int(onPrimary+onBackup)).To(BeNumerically(">=", accepted), "an accepted part never reached an SMSC")
		met(fmt.Sprintf("%d messages: %d via primary, %d via backup, %d unknown, 0 duplicates", n, onPrimary, onBackup, unknown))
	})
})
