package phase1_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/scenarios/framework"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
)

var _ = Describe("Phase 1 connector", func() {
	It("binds every configured operator with Vault credentials and round-trips submit, receipt and sms.dlr.inbound", func(ctx SpecContext) {
		met := framework.GateCondition("connector_roundtrip")
		ops := []testenv.OperatorCredential{operatorA, operatorB}
		smsc := framework.StartSimulator(ctx, framework.SimulatorConfig(env.Operator(operatorA.OperatorID), env.Operator(operatorB.OperatorID)))

		By("telling each simulated MNO the password Vault holds now (a rotation may have happened)")
		yaml := "operators:\n"
		for _, op := range ops {
			secret, err := env.KV().Get(ctx, testenv.OperatorSecretPath(op.OperatorID))
			Expect(err).NotTo(HaveOccurred())
			Expect(smsc.Client.SetPasswords(ctx, op.OperatorID, op.SystemID, op.Password, secret.Data["password"].(string))).To(Succeed())
			yaml += fmt.Sprintf("  - id: %s\n    endpoints: {primary: [{address: %q}]}\n    tps: 50\n", op.OperatorID, smsc.Addr(op.OperatorID))
		}
		By("starting the connector on the suite's PostgreSQL, Vault and NATS")
		framework.StartConnector(ctx, env, yaml)

		By("publishing one dispatch command per operator")
		js := env.JetStream()
		start := time.Now()
		for _, op := range ops {
			framework.PublishCommand(ctx, env, op.OperatorID, fmt.Sprintf("p1-%s-%d", op.OperatorID, start.UnixNano()), "phase 1")
		}

		By("reading a DELIVERED receipt event for each on " + natscontract.ReceiptSubject)
		cons, err := js.OrderedConsumer(ctx, natscontract.ReceiptStream, jetstream.OrderedConsumerConfig{
			DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &start})
		Expect(err).NotTo(HaveOccurred())
		seen := map[string]string{}
		Eventually(func(g Gomega) {
			batch, err := cons.FetchNoWait(10)
			g.Expect(err).NotTo(HaveOccurred())
			for m := range batch.Messages() {
				var r map[string]any
				g.Expect(json.Unmarshal(m.Data(), &r)).To(Succeed())
				seen[r["operatorId"].(string)] = r["status"].(string)
			}
			g.Expect(seen).To(HaveKeyWithValue(operatorA.OperatorID, "DELIVERED"))
			g.Expect(seen).To(HaveKeyWithValue(operatorB.OperatorID, "DELIVERED"))
		}).WithContext(ctx).WithTimeout(30 * time.Second).Should(Succeed())
		met(fmt.Sprintf("%d operators: submit, receipt, sms.dlr.inbound", len(ops)))
	})
})
