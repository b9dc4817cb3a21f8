package phase4_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/natsjs"
	"github.com/smpp-connector/smpp-connector/connector/service"
	"github.com/smpp-connector/smpp-connector/scenarios/framework"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
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
		ops, err := config.Parse([]byte(fmt.Sprintf(`operators:
  - id: mno-a
    endpoints: {primary: [{address: %q}], backup: [{address: %q}]}
    tps: 100
    rebind: {initial: 100ms, max: 1s}
    responseTimeout: 2s
`, smsc.Addr("primary"), smsc.Addr("backup"))))
		Expect(err).NotTo(HaveOccurred())

		By("starting the connector with its credentials in Vault")
		svc := config.DefaultService()
		svc.NATS.URL, svc.NATS.CreateStreams = env.Endpoints.NATSURL, true
		svc.PostgresDSN, svc.HTTPListen = env.DatabaseDSN, "127.0.0.1:0"
		svc.Vault.Address, svc.Vault.Token, svc.Vault.KVMount = env.Endpoints.VaultAddr, env.Endpoints.VaultToken, env.Endpoints.VaultKVMount
		runCtx, stop := context.WithCancel(context.Background())
		ready, done := make(chan struct{}), make(chan error, 1)
		go func() {
			done <- service.Run(runCtx, svc, ops, service.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Ready: ready})
		}()
		DeferCleanup(func() { stop(); Eventually(done).WithTimeout(30 * time.Second).Should(Receive(BeNil())) })
		Eventually(ready).WithContext(ctx).WithTimeout(30 * time.Second).Should(BeClosed())

		By(fmt.Sprintf("publishing %d commands at the operator's 100 TPS", n))
		js := env.JetStream()
		start := time.Now()
		for i := 0; i < n; i++ {
			cmd := fmt.Sprintf(`{"messageId":"p4-%d-%d","operatorId":"mno-a","source":{"addr":"ACME","ton":5,"npi":0},`+
				`"destination":{"addr":"447700900123","ton":1,"npi":1},"text":"failover %d","registeredDelivery":true}`, start.UnixNano(), i, i)
			_, err := js.Publish(ctx, natsjs.DispatchSubjectFor("mno-a"), []byte(cmd))
			Expect(err).NotTo(HaveOccurred())
		}

		By("taking the primary SMSC down once traffic flows")
		Eventually(func() uint64 { return smsc.Sim.Stats().Sum("primary", "", "submit_sm", "ESME_ROK") }).
			WithContext(ctx).WithTimeout(20 * time.Second).Should(BeNumerically(">=", 50))
		_, err = smsc.Client.AddFault(ctx, faults.Spec{Name: "primary-outage", Type: "outage", Match: faults.Match{Operator: "primary"}})
		Expect(err).NotTo(HaveOccurred())

		By("collecting one outcome per message")
		outcomes := map[string]string{}
		cons, err := js.OrderedConsumer(ctx, natsjs.EventsStream, jetstream.OrderedConsumerConfig{
			FilterSubjects: []string{natsjs.OutcomePrefix + "mno-a"}, DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &start})
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
		Expect(int(onPrimary+onBackup)).To(Equal(n), "a part was submitted twice (or not at all)")
		met(fmt.Sprintf("%d messages: %d via primary, %d via backup, %d unknown, 0 duplicates", n, onPrimary, onBackup, unknown))
	})
})
