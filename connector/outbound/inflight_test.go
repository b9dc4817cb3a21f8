package outbound_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/internal/pipelinetest"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/outbound"
	"github.com/smpp-connector/smpp-connector/connector/store"
	"github.com/smpp-connector/smpp-connector/internal/testutil"
)

// consumerInfo reads the operator's dispatch consumer (which Run creates).
func consumerInfo(r *pipelinetest.Rig) (*jetstream.ConsumerInfo, error) {
	c, err := r.JS.Consumer(context.Background(), natscontract.DispatchStream, natscontract.ConsumerName(pipelinetest.Operator))
	if err != nil {
		return nil, fmt.Errorf("consumer: %w", err)
	}
	return c.Info(context.Background())
}

// outcomesByPart reads the outcome events published, per part, in order.
func outcomesByPart(t *testing.T, r *pipelinetest.Rig, messageID string) map[int][]string {
	t.Helper()
	per := map[int][]string{}
	for _, o := range r.Events(t, natscontract.EventsStream, natscontract.OutcomeSubjectFor(pipelinetest.Operator)) {
		if o["messageId"] == messageID {
			n, _ := o["partNumber"].(float64)
			per[int(n)] = append(per[int(n)], fmt.Sprint(o["outcome"]))
		}
	}
	return per
}

// Two deliveries of one command worked on at the same time in one process
// (JetStream redelivers a command whose heartbeats could not reach it, NATS
// restarted, while the first delivery still submits): each part reaches the
// SMSC once, and no part is reported unknown while the first delivery is
// getting it accepted. The second delivery is played by the same command
// published twice: the consumer fetches both at once, and the simulator's
// latency keeps the first delivery's submits waiting meanwhile.
func TestConcurrentDeliveriesSubmitEachPartOnce(t *testing.T) {
	for _, policy := range []outbound.AfterCrash{outbound.AfterCrashResend, outbound.AfterCrashUnknown} {
		t.Run(string(policy), func(t *testing.T) {
			r := newRig(t, pipelinetest.Options{Outbound: outbound.Operator{AfterCrash: policy}})
			latency(t, r, 2*time.Second)
			text := strings.Repeat("twice? ", 60) // 420 GSM 7-bit characters: 3 parts
			r.Publish(t, "twice-1", text)
			seq := r.Publish(t, "twice-1", text)
			// Both deliveries in hand at once, neither acked: the premise.
			testutil.WaitFor(t, 10*time.Second, 5*time.Millisecond, func() error {
				info, err := consumerInfo(r)
				if err != nil || info.NumAckPending != 2 {
					return fmt.Errorf("not both deliveries in hand (%v)", err)
				}
				return nil
			})
			// Barrier: both acked, their handling over.
			r.WaitHandled(t, seq)
			if n := r.Submits(); n != 3 {
				t.Errorf("%d submit_sm for a 3-part message delivered twice at once, want 3", n)
			}
			per := outcomesByPart(t, r, "twice-1")
			for part := 1; part <= 3; part++ {
				for _, o := range per[part] {
					if o != "accepted" {
						t.Errorf("part %d: outcomes %v published, want accepted only", part, per[part])
						break
					}
				}
				if len(per[part]) == 0 {
					t.Errorf("part %d: no outcome published", part)
				}
			}
			var unknown int
			if err := r.Store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM smpp.message_correlations
				WHERE message_id = 'twice-1' AND submit_status <> 'accepted'`).Scan(&unknown); err != nil || unknown != 0 {
				t.Errorf("%d parts stored other than accepted (%v)", unknown, err)
			}
		})
	}
}

// A part the operator's previous owner (another replica) prepared and left
// pending may still be on its way there when this replica takes over and
// the command comes back: the previous owner waits up to its response
// timeout for the answer to what it sent before it stopped. The part is
// judged by the afterCrash policy only once that time is over. The previous
// owner is played by preparing the row before the command is published, and
// by storing its answer (accepted) after the command was delivered here.
func TestPartOfAPreviousOwnerIsNotJudgedWhileItMayStillBeSent(t *testing.T) {
	const settle = 8 * time.Second
	for _, c := range []struct {
		name     string
		policy   outbound.AfterCrash
		answered bool // the previous owner stores its answer during the settle
		outcome  string
	}{
		{"resend, answered meanwhile: not sent again", outbound.AfterCrashResend, true, "accepted"},
		{"unknown, answered meanwhile: the answer, not unknown", outbound.AfterCrashUnknown, true, "accepted"},
		{"unknown, never answered: unknown once the settle is over", outbound.AfterCrashUnknown, false, "unknown"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, pipelinetest.Options{Outbound: outbound.Operator{AfterCrash: c.policy, PreviousOwnerSettle: settle}})
			ctx := context.Background()
			// Run creates its JetStream consumer, then starts: the consumer's
			// creation time (the embedded server's clock is this process's)
			// is no later than the start the settle counts from.
			var started time.Time
			testutil.WaitFor(t, 20*time.Second, 5*time.Millisecond, func() error {
				info, err := consumerInfo(r)
				if err != nil {
					return err
				}
				started = info.Created
				return nil
			})
			if _, err := r.Store.PrepareParts(ctx, store.MessageRef{OperatorID: pipelinetest.Operator, MessageID: "prev-1", PartCount: 1},
				[]store.PartRef{{Number: 1}}); err != nil {
				t.Fatal(err)
			}
			seq := r.Publish(t, "prev-1", "sent by the previous owner")
			testutil.WaitFor(t, 10*time.Second, 5*time.Millisecond, func() error {
				info, err := consumerInfo(r)
				if err != nil || info.Delivered.Consumer == 0 {
					return fmt.Errorf("not delivered yet (%v)", err)
				}
				return nil
			})
			if c.answered {
				// The previous owner's answer comes later than a consumer that
				// judged the part at once would have (it does within
				// milliseconds of the delivery), and is stored there.
				time.Sleep(time.Second)
				if _, err := r.Store.RecordOutcome(ctx, store.Outcome{OperatorID: pipelinetest.Operator, MessageID: "prev-1", Part: 1,
					Kind: store.Accepted, SMSCMessageID: "prev-smsc-1"}); err != nil {
					t.Fatal(err)
				}
				if time.Since(started) >= settle {
					t.Fatalf("the answer stored %v after the consumer started, past the %v settle: the test proves nothing", time.Since(started), settle)
				}
			}
			// Barrier: the command is acked, its handling over.
			r.WaitHandled(t, seq)
			if n := r.Submits(); n != 0 {
				t.Errorf("%d submit_sm of a part the previous owner was sending, want 0", n)
			}
			per := outcomesByPart(t, r, "prev-1")
			if len(per[1]) == 0 {
				t.Fatal("no outcome published")
			}
			for _, o := range per[1] {
				if o != c.outcome {
					t.Errorf("outcomes %v published, want %s only", per[1], c.outcome)
					break
				}
			}
			if !c.answered {
				// Judged no earlier than the settle after the consumer started
				// (a lower bound: a slow machine only makes it later).
				for _, o := range r.Events(t, natscontract.EventsStream, natscontract.OutcomeSubjectFor(pipelinetest.Operator)) {
					at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(o["at"]))
					if err != nil {
						t.Fatalf("outcome %v: at: %v", o, err)
					}
					if d := at.Sub(started); d < settle {
						t.Errorf("judged %v after the consumer started, before the %v settle", d, settle)
					}
				}
			}
		})
	}
}
