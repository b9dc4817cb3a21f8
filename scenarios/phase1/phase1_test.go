package phase1_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	vault "github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go/jetstream"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/migrations"
	"github.com/smpp-connector/smpp-connector/scenarios/framework"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
	"github.com/smpp-connector/smpp-connector/smscsim/api"
)

var _ = Describe("Phase 1 infrastructure", func() {
	Context("PostgreSQL", func() {
		It("applies the smpp migrations to the suite's database and round-trips a correlation through pgx", func(ctx SpecContext) {
			met := framework.GateCondition("postgres_migrations")
			pool := env.Postgres(ctx)

			By("finding every embedded migration applied")
			var applied int64
			Expect(pool.QueryRow(ctx,
				"SELECT coalesce(max(version_id), 0) FROM "+migrations.VersionTable+" WHERE is_applied").Scan(&applied)).To(Succeed())
			Expect(applied).To(BeNumerically(">=", 1))
			Expect(applied).To(Equal(env.SchemaVersion))

			By("storing a submit_sm_resp correlation, twice: the retry is a no-op")
			msgID := fmt.Sprintf("msg-%d", time.Now().UnixNano())
			submittedAt := time.Now().UTC().Truncate(time.Microsecond)
			insert := `INSERT INTO smpp.message_correlations
				(operator_id, message_id, part_number, part_count, smsc_message_id, smsc_key, sequence_number,
				 submit_status, command_status, submitted_at, resp_at)
				VALUES ($1, $2, 1, 1, $3, $3, $4, 'accepted', 0, $5, $5)
				ON CONFLICT DO NOTHING`
			for i, want := range []int64{1, 0} {
				tag, err := pool.Exec(ctx, insert, operatorA.OperatorID, msgID, "SMSC-0001", 42, submittedAt)
				Expect(err).NotTo(HaveOccurred())
				Expect(tag.RowsAffected()).To(Equal(want), "insert #%d", i+1)
			}

			By("ignoring a second message that claims the same SMSC message id")
			_, err := pool.Exec(ctx, insert, operatorA.OperatorID, msgID+"-other", "SMSC-0001", 43, submittedAt)
			Expect(err).NotTo(HaveOccurred()) // ON CONFLICT DO NOTHING: ignored, not duplicated
			var rows int
			Expect(pool.QueryRow(ctx, `SELECT count(*) FROM smpp.message_correlations
				WHERE operator_id = $1 AND smsc_key = 'SMSC-0001'`, operatorA.OperatorID).Scan(&rows)).To(Succeed())
			Expect(rows).To(Equal(1))

			By("matching a receipt by (operator, canonical SMSC key)")
			tag, err := pool.Exec(ctx, `UPDATE smpp.message_correlations
				SET receipt_state = 'DELIVERED', receipt_stat = 'DELIVRD', receipt_err = '000',
				    receipt_at = now(), updated_at = now()
				WHERE operator_id = $1 AND smsc_key = $2`, operatorA.OperatorID, "SMSC-0001")
			Expect(err).NotTo(HaveOccurred())
			Expect(tag.RowsAffected()).To(Equal(int64(1)))

			var (
				gotMsgID, state, stat string
				part, parts           int16
				gotSubmitted          time.Time
			)
			Expect(pool.QueryRow(ctx, `SELECT message_id, part_number, part_count, receipt_state, receipt_stat, submitted_at
				FROM smpp.message_correlations WHERE operator_id = $1 AND smsc_message_id = $2`,
				operatorA.OperatorID, "SMSC-0001").Scan(&gotMsgID, &part, &parts, &state, &stat, &gotSubmitted)).To(Succeed())
			Expect(gotMsgID).To(Equal(msgID))
			Expect([]int16{part, parts}).To(Equal([]int16{1, 1}))
			Expect(state).To(Equal("DELIVERED"))
			Expect(stat).To(Equal("DELIVRD"))
			Expect(gotSubmitted.Equal(submittedAt)).To(BeTrue(), "submitted_at %s, want %s", gotSubmitted, submittedAt)

			By("rejecting a receipt state outside the normalised set")
			_, err = pool.Exec(ctx, `UPDATE smpp.message_correlations SET receipt_state = 'delivrd'
				WHERE message_id = $1`, msgID)
			Expect(err).To(MatchError(ContainSubstring("message_correlations_receipt_state_check")))

			// The row is this spec's own; keep the suite's database tidy for later specs.
			_, err = pool.Exec(ctx, `DELETE FROM smpp.message_correlations WHERE message_id = $1`, msgID)
			Expect(err).NotTo(HaveOccurred())
			Expect(errors.Is(pool.QueryRow(ctx, `SELECT 1 FROM smpp.message_correlations WHERE message_id = $1`,
				msgID).Scan(new(int)), pgx.ErrNoRows)).To(BeTrue())
			met(fmt.Sprintf("schema version %d", applied))
		})
	})

	Context("Vault", func() {
		It("serves each operator's SMPP credentials from KV v2, versioned for rotation", func(ctx SpecContext) {
			met := framework.GateCondition("vault_credentials")
			kv := env.KV()

			By("reading the seeded credentials of both operators")
			a, err := kv.Get(ctx, testenv.OperatorSecretPath(operatorA.OperatorID))
			Expect(err).NotTo(HaveOccurred())
			Expect(a.Data).To(HaveKeyWithValue("system_id", operatorA.SystemID))
			Expect(a.Data).To(HaveKeyWithValue("password", operatorA.Password))
			Expect(a.Data).NotTo(HaveKey("system_type"))
			Expect(env.Operator(operatorA.OperatorID).String()).NotTo(ContainSubstring(operatorA.Password))

			b, err := kv.Get(ctx, testenv.OperatorSecretPath(operatorB.OperatorID))
			Expect(err).NotTo(HaveOccurred())
			Expect(b.Data).To(HaveKeyWithValue("system_type", "SMS"))

			By("keeping the previous version when a credential is rotated")
			rotated, err := kv.Put(ctx, testenv.OperatorSecretPath(operatorB.OperatorID), map[string]any{
				"system_id": operatorB.SystemID, "password": "n3wPassB", "system_type": "SMS",
			})
			Expect(err).NotTo(HaveOccurred())
			Expect(rotated.VersionMetadata.Version).To(Equal(b.VersionMetadata.Version + 1))
			latest, err := kv.Get(ctx, testenv.OperatorSecretPath(operatorB.OperatorID))
			Expect(err).NotTo(HaveOccurred())
			Expect(latest.Data).To(HaveKeyWithValue("password", "n3wPassB"))
			previous, err := kv.GetVersion(ctx, testenv.OperatorSecretPath(operatorB.OperatorID), b.VersionMetadata.Version)
			Expect(err).NotTo(HaveOccurred())
			Expect(previous.Data).To(HaveKeyWithValue("password", operatorB.Password))

			By("answering 'not found' for an operator without credentials")
			_, err = kv.Get(ctx, testenv.OperatorSecretPath("mno-unknown"))
			Expect(errors.Is(err, vault.ErrSecretNotFound)).To(BeTrue(), "got %v", err)
			met(fmt.Sprintf("2 operators, rotation to v%d", rotated.VersionMetadata.Version))
		})
	})

	Context("NATS JetStream", func() {
		It("round-trips a dispatch command and a receipt through their streams with explicit ack", func(ctx SpecContext) {
			met := framework.GateCondition("jetstream_roundtrip")
			js := env.JetStream()
			dispatch := env.Stream(natscontract.DispatchStream)
			receipts := env.Stream(natscontract.ReceiptStream)

			By("publishing a dispatch command for mno-a, twice with the same message id")
			msgID := fmt.Sprintf("phase1-%d", time.Now().UnixNano())
			cmd, err := json.Marshal(map[string]any{
				"messageId": msgID, "operatorId": operatorA.OperatorID,
				"source":      map[string]any{"addr": "ACME", "ton": 5, "npi": 0},
				"destination": map[string]any{"addr": "447700900123", "ton": 1, "npi": 1},
				"text":        "Hello", "encoding": "auto", "registeredDelivery": true, "validity": "PT24H", "priority": 0,
			})
			Expect(err).NotTo(HaveOccurred())
			subject := natscontract.DispatchSubjectFor(operatorA.OperatorID)
			ack, err := js.Publish(ctx, subject, cmd, jetstream.WithMsgID(msgID))
			Expect(err).NotTo(HaveOccurred())
			Expect(ack.Stream).To(Equal(dispatch))
			again, err := js.Publish(ctx, subject, cmd, jetstream.WithMsgID(msgID))
			Expect(err).NotTo(HaveOccurred())
			Expect(again.Duplicate).To(BeTrue(), "the stream de-duplicates by Nats-Msg-Id")

			By("consuming it with a durable, filtered consumer and an explicit ack")
			durable := "phase1-" + operatorA.OperatorID
			cons, err := js.CreateOrUpdateConsumer(ctx, dispatch, jetstream.ConsumerConfig{
				Durable:       durable,
				FilterSubject: subject,
				AckPolicy:     jetstream.AckExplicitPolicy,
				AckWait:       10 * time.Second,
				// Other specs (the connector's) use the same subject: start at ours.
				DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
				OptStartSeq:   ack.Sequence,
			})
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func(ctx SpecContext) error { return js.DeleteConsumer(ctx, dispatch, durable) })
			msg := fetchOne(cons)
			Expect(msg.Subject()).To(Equal(subject))
			Expect(msg.Data()).To(MatchJSON(cmd))
			Expect(msg.DoubleAck(ctx)).To(Succeed())
			Eventually(func(g Gomega) {
				info, err := cons.Info(ctx)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(info.NumAckPending).To(BeZero())
				g.Expect(info.NumPending).To(BeZero())
			}).WithContext(ctx).WithTimeout(5 * time.Second).Should(Succeed())

			By("publishing a delivery receipt on " + natscontract.ReceiptSubject + " and reading it back")
			receipt, err := json.Marshal(map[string]any{
				"messageId": msgID, "operatorId": operatorA.OperatorID, "smscMessageId": "SMSC-0001",
				"status": "DELIVERED", "stat": "DELIVRD", "err": "000", "partCount": 1,
			})
			Expect(err).NotTo(HaveOccurred())
			rack, err := js.Publish(ctx, natscontract.ReceiptSubject, receipt)
			Expect(err).NotTo(HaveOccurred())
			Expect(rack.Stream).To(Equal(receipts))
			rcons, err := js.OrderedConsumer(ctx, receipts, jetstream.OrderedConsumerConfig{
				FilterSubjects: []string{natscontract.ReceiptSubject},
				DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
				OptStartSeq:    rack.Sequence,
			})
			Expect(err).NotTo(HaveOccurred())
			rmsg := fetchOne(rcons)
			Expect(rmsg.Data()).To(MatchJSON(receipt))
			met(fmt.Sprintf("dispatch seq %d, receipt seq %d", ack.Sequence, rack.Sequence))
		})
	})

	Context("SMSC", func() {
		It("binds to every operator's SMSC with the credentials read from Vault and round-trips a submit and its receipt", func(ctx SpecContext) {
			met := framework.GateCondition("smsc_bind_roundtrip")
			smsc := framework.StartSimulator(ctx, framework.SimulatorConfig(env.Operator(operatorA.OperatorID), env.Operator(operatorB.OperatorID)))
			for _, op := range []testenv.OperatorCredential{operatorA, operatorB} {
				By("reading " + op.OperatorID + "'s credentials from Vault")
				secret, err := env.KV().Get(ctx, testenv.OperatorSecretPath(op.OperatorID))
				Expect(err).NotTo(HaveOccurred())
				password, _ := secret.Data["password"].(string)
				systemType, _ := secret.Data["system_type"].(string)
				// A rotation (the Vault spec may have run first) is announced to the
				// MNO, which accepts the old and the new password for a while.
				Expect(smsc.Client.SetPasswords(ctx, op.OperatorID, op.SystemID, op.Password, password)).To(Succeed())

				By("binding a transceiver to " + op.OperatorID + " and submitting with a receipt requested")
				esme := bindESME(smsc.Addr(op.OperatorID), secret.Data["system_id"].(string), password, systemType)
				resp, receipt := esme.submitAndWait(ctx, "447700900123", "phase1 "+op.OperatorID)
				Expect(resp.CommandStatus).To(Equal(data.ESME_ROK))
				Expect(receipt.OptionalParameters).To(HaveKey(pdu.TagReceiptedMessageID))
				id := receipt.OptionalParameters[pdu.TagReceiptedMessageID]
				Expect(id.String()).To(Equal(resp.MessageID))

				By("finding the submit in the SMSC's recorder, as the operator saw it")
				recs, err := smsc.Client.PDUs(ctx, api.Filter{Operator: op.OperatorID, Command: "submit_sm"})
				Expect(err).NotTo(HaveOccurred())
				Expect(recs.Records).To(ContainElement(And(
					HaveField("Account", op.SystemID), HaveField("Text", "phase1 "+op.OperatorID), HaveField("MessageID", resp.MessageID))))
			}
			met("2 operators bound, submit + receipt each")
		})
	})
})

// fetchOne fetches exactly one message from a consumer, failing after 10 s.
func fetchOne(c jetstream.Consumer) jetstream.Msg {
	GinkgoHelper()
	batch, err := c.Fetch(1, jetstream.FetchMaxWait(10*time.Second))
	Expect(err).NotTo(HaveOccurred())
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	Expect(batch.Error()).NotTo(HaveOccurred())
	Expect(msgs).To(HaveLen(1))
	return msgs[0]
}
