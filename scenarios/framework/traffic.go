package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/linxGnu/gosmpp/data"
	"github.com/nats-io/nats.go/jetstream"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/smscsim/api"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
)

// What a gate run sends: GateMessages commands to an operator contracted,
// and configured, at GateTPS.
const (
	GateMessages = 1000
	GateTPS      = 200
)

// PushBack makes the SMSC answer ESME_RTHROTTLED above 180 submits a second
// (below GateTPS): the MNO pushing back.
var PushBack = faults.Spec{Name: "pushback", Type: "throttle", Params: json.RawMessage(`{"tps":180,"status":"ESME_RTHROTTLED"}`),
	Match: faults.Match{Command: "submit_sm"}}

// StartBaselineSMSC starts a simulated SMSC, operator id, for the suite's
// operator credential at a contracted tps, shaped to produce a Mix
// (BaselineFaults) and given the extra faults.
func StartBaselineSMSC(ctx context.Context, e *Env, operatorID, id string, tps int, extra ...faults.Spec) *Simulator {
	GinkgoHelper()
	cred := e.Operator(operatorID)
	smsc := StartSimulator(ctx, server.Config{Operators: []server.OperatorConfig{{ID: id, Listen: "127.0.0.1:0",
		Accounts: []server.AccountConfig{{SystemID: cred.SystemID, Password: cred.Password, TPS: tps}}}}})
	for _, f := range append(BaselineFaults(id), extra...) {
		_, err := smsc.Client.AddFault(ctx, api.Spec{Name: f.Name, Type: f.Type, Probability: f.Probability, Params: f.Params,
			Match: api.Match{Operator: f.Match.Operator, Account: f.Match.Account, DestinationPrefix: f.Match.DestinationPrefix, Command: f.Match.Command}})
		Expect(err).NotTo(HaveOccurred(), f.Name)
	}
	return smsc
}

// BaselineFaults make the simulated SMSC of operator produce a Mix: it
// rejects the submits to RejectPrefix and never sends the receipts
// of NoReceiptPrefix.
func BaselineFaults(operator string) []faults.Spec {
	return []faults.Spec{
		{Name: "baseline-rejects", Type: "error", Params: json.RawMessage(`{"status":"ESME_RINVDSTADR"}`),
			Match: faults.Match{Operator: operator, Command: "submit_sm", DestinationPrefix: RejectPrefix}},
		{Name: "baseline-lost-receipts", Type: "receipt_drop",
			Match: faults.Match{Operator: operator, DestinationPrefix: NoReceiptPrefix}},
	}
}

// PublishMix publishes the Mix's messages for operatorID, ids prefix-0 ..
// prefix-(N-1).
func PublishMix(ctx context.Context, e *Env, operatorID, prefix string, m Mix) {
	GinkgoHelper()
	for i := range m.N {
		PublishCommandTo(ctx, e, operatorID, fmt.Sprintf("%s-%d", prefix, i), m.Destination(i), fmt.Sprintf("gate message %d", i))
	}
}

// StoredOutcomes waits until every one of the n messages prefix-* has a
// stored submit outcome and returns their count by status (accepted,
// rejected, unknown).
func StoredOutcomes(ctx context.Context, e *Env, prefix string, n int, timeout time.Duration) map[string]int {
	GinkgoHelper()
	conn, err := pgx.Connect(ctx, e.DatabaseDSN)
	Expect(err).NotTo(HaveOccurred())
	defer conn.Close(context.WithoutCancel(ctx))
	out := map[string]int{}
	Eventually(func(g Gomega) {
		rows, err := conn.Query(ctx, `SELECT submit_status, count(*) FROM smpp.message_correlations
			WHERE starts_with(message_id, $1 || '-') GROUP BY 1`, prefix)
		g.Expect(err).NotTo(HaveOccurred())
		counts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct {
			status string
			n      int
		}, error) {
			var v struct {
				status string
				n      int
			}
			return v, r.Scan(&v.status, &v.n)
		})
		g.Expect(err).NotTo(HaveOccurred())
		clear(out)
		done := 0
		for _, c := range counts {
			out[c.status] = c.n
			if c.status != "pending" {
				done += c.n
			}
		}
		g.Expect(done).To(Equal(n), "messages with an outcome: %v", out)
	}).WithContext(ctx).WithTimeout(timeout).WithPolling(200 * time.Millisecond).Should(Succeed())
	return out
}

// ReceiptEvents counts the receipt events on sms.dlr.inbound for messages
// prefix-*, by message id.
func ReceiptEvents(ctx context.Context, e *Env, prefix string) map[string]int {
	GinkgoHelper()
	cons, err := e.JetStream().OrderedConsumer(ctx, natscontract.ReceiptStream, jetstream.OrderedConsumerConfig{})
	Expect(err).NotTo(HaveOccurred())
	out := map[string]int{}
	for {
		batch, err := cons.FetchNoWait(1000)
		Expect(err).NotTo(HaveOccurred())
		got := 0
		defer func() { Expect(batch.Error()).NotTo(HaveOccurred(), "reading sms.dlr.inbound") }()
		for m := range batch.Messages() {
			got++
			var r struct{ MessageID string }
			Expect(json.Unmarshal(m.Data(), &r)).To(Succeed())
			if len(r.MessageID) > len(prefix) && r.MessageID[:len(prefix)+1] == prefix+"-" {
				out[r.MessageID]++
			}
		}
		if got == 0 {
			return out
		}
	}
}

// ThrottleRejections counts the messages prefix-* whose stored outcome is a
// rejection for going too fast (ESME_RTHROTTLED, ESME_RMSGQFUL): the
// connector must retry those, never give them up.
func ThrottleRejections(ctx context.Context, e *Env, prefix string) int {
	GinkgoHelper()
	conn, err := pgx.Connect(ctx, e.DatabaseDSN)
	Expect(err).NotTo(HaveOccurred())
	defer conn.Close(context.WithoutCancel(ctx))
	var n int
	Expect(conn.QueryRow(ctx, `SELECT count(*) FROM smpp.message_correlations
		WHERE starts_with(message_id, $1 || '-') AND submit_status = 'rejected' AND command_status IN ($2, $3)`,
		prefix, int32(data.ESME_RTHROTTLED), int32(data.ESME_RMSGQFUL)).Scan(&n)).To(Succeed())
	return n
}
