package outbound_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/internal/pipelinetest"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/outbound"
	"github.com/smpp-connector/smpp-connector/connector/store"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// The MT path runs here, with the inbound path for its receipts, against
// real PostgreSQL (container), a real NATS server (embedded) and the
// simulator.

func TestMain(m *testing.M) { os.Exit(pipelinetest.Main(m)) }

// newRig starts the pipeline on a fresh database.
func newRig(t *testing.T, o pipelinetest.Options) *pipelinetest.Rig { return pipelinetest.New(t, o) }

func TestRoundTripSubmitReceiptAndOutcome(t *testing.T) {
	r := newRig(t, pipelinetest.Options{})
	r.Publish(t, "m-1", "Hello receipt")
	rcpt := r.WaitEvents(t, natscontract.ReceiptStream, natscontract.ReceiptSubject, 1)[0]
	if rcpt["messageId"] != "m-1" || rcpt["status"] != "DELIVERED" || rcpt["stat"] != "DELIVRD" {
		t.Fatalf("receipt event %v", rcpt)
	}
	out := r.WaitEvents(t, natscontract.EventsStream, natscontract.OutcomeSubjectFor("mno-a"), 1)[0]
	if out["outcome"] != "accepted" || out["smscMessageId"] != rcpt["smscMessageId"] {
		t.Fatalf("outcome %v", out)
	}
}

func TestBadCommandsGoToDeadLetter(t *testing.T) {
	r := newRig(t, pipelinetest.Options{})
	r.PublishRaw(t, `{"messageId":`)
	seq := r.PublishRaw(t, `{"messageId":"x","operatorId":"mno-a","source":{"addr":"ACME","ton":5},"destination":{"addr":"44"},"text":"😀","encoding":"gsm7"}`)
	dl := r.WaitEvents(t, natscontract.EventsStream, natscontract.DeadLetterSubjectFor("mno-a"), 2)
	// The commands are worked on concurrently: their dead letters come in
	// either order.
	var notJSON, badText bool
	for _, d := range dl {
		reason, _ := d["reason"].(string)
		notJSON = notJSON || strings.Contains(reason, "not JSON")
		badText = badText || d["field"] == "text"
	}
	if !notJSON || !badText {
		t.Fatalf("%v", dl)
	}
	// Barrier: both commands are acked, their handling over.
	r.WaitHandled(t, seq)
	if n := r.Submits(); n != 0 {
		t.Fatalf("%d bad commands reached the SMSC", n)
	}
}

func TestRedeliveredCommandIsNotResubmitted(t *testing.T) {
	r := newRig(t, pipelinetest.Options{})
	r.Publish(t, "dup-1", "once only")
	r.WaitEvents(t, natscontract.EventsStream, natscontract.OutcomeSubjectFor("mno-a"), 1)
	// The orchestrator (or a replay) sends the same command again.
	seq := r.Publish(t, "dup-1", "once only")
	// Barrier: the copy is acked, so its handling is over.
	r.WaitHandled(t, seq)
	if n := r.Sim.Stats().Sum("mno-a", "acme", "submit_sm", ""); n != 1 {
		t.Fatalf("%d submit_sm for one message", n)
	}
}

func TestThrottledAnswersAreRetriedNotLost(t *testing.T) {
	r := newRig(t, pipelinetest.Options{Outbound: outbound.Operator{RetryDelay: 100 * time.Millisecond}})
	b, _ := json.Marshal(map[string]any{"tps": 5})
	if _, err := r.Sim.Faults.Add(faults.Spec{Type: "throttle", Params: b}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 12; i++ {
		r.Publish(t, fmt.Sprintf("th-%d", i), "slow down")
	}
	out := r.WaitEvents(t, natscontract.EventsStream, natscontract.OutcomeSubjectFor("mno-a"), 12)
	for _, o := range out {
		if o["outcome"] != "accepted" {
			t.Fatalf("%v", o)
		}
	}
}

func TestShadowModePublishesNothing(t *testing.T) {
	r := newRig(t, pipelinetest.Options{Shadow: true})
	r.Publish(t, "sh-1", "shadow")
	smpptest.Eventually(t, 5*time.Second, 50*time.Millisecond, func() error {
		if !strings.Contains(r.Comparison.String(), `"kind":"receipt"`) {
			return fmt.Errorf("comparison log: %s", r.Comparison.String())
		}
		return nil
	})
	if n := len(r.Events(t, natscontract.ReceiptStream, natscontract.ReceiptSubject)); n != 0 {
		t.Fatalf("%d receipts published in shadow mode", n)
	}
	if n := len(r.Events(t, natscontract.EventsStream, natscontract.OutcomeSubjectFor("mno-a"))); n != 0 {
		t.Fatalf("%d outcomes published in shadow mode", n)
	}
}

// A command that takes longer than the ack wait (here paced by the TPS) is
// not redelivered to another goroutine meanwhile, which would submit its
// pending parts a second time.
func TestSlowCommandKeepsItsDeliveryAlive(t *testing.T) {
	r := newRig(t, pipelinetest.Options{TPS: 2, Outbound: outbound.Operator{AckWait: time.Second}})
	start := time.Now()
	seq := r.Publish(t, "slow-1", strings.Repeat("paced ", 150)) // 900 characters: 6 parts at 2 TPS
	out := r.WaitEvents(t, natscontract.EventsStream, natscontract.OutcomeSubjectFor("mno-a"), 6)
	// Barrier: the command is acked. Its handling outlasted the ack wait, so
	// a delivery left to expire would have been redelivered meanwhile, and
	// the consumer counts every delivery, redeliveries included.
	info := r.WaitHandled(t, seq)
	if d := time.Since(start); d < 2*time.Second {
		t.Fatalf("the command took %v, not past the 1s ack wait: the test proves nothing", d)
	}
	if info.Delivered.Consumer != 1 || info.NumRedelivered != 0 {
		t.Fatalf("%d deliveries (%d redelivered) of one command", info.Delivered.Consumer, info.NumRedelivered)
	}
	if n := r.Sim.Stats().Sum("mno-a", "acme", "submit_sm", ""); n != 6 {
		t.Fatalf("%d submit_sm for a 6-part message (outcomes: %v)", n, out)
	}
}

// When the store fails after the SMSC has answered, the outcome is stored
// on a retry instead of the command being handed back: a redelivery would
// find the part pending and submit it again.
func TestOutcomeStoredAfterAStoreOutageNotResubmitted(t *testing.T) {
	r := newRig(t, pipelinetest.Options{Outbound: outbound.Operator{RetryDelay: 100 * time.Millisecond}, Store: store.Options{FlushTimeout: 500 * time.Millisecond}})
	b, _ := json.Marshal(map[string]any{"distribution": map[string]any{"kind": "fixed", "value": "500ms"}})
	if _, err := r.Sim.Faults.Add(faults.Spec{Type: "latency", Params: b, Match: faults.Match{Command: "submit_sm"}}); err != nil {
		t.Fatal(err)
	}
	db := r.Store.Pool()
	seq := r.Publish(t, "outage-1", "stored late")
	smpptest.Eventually(t, 5*time.Second, 5*time.Millisecond, func() error {
		var n int
		if err := db.QueryRow(context.Background(), `SELECT count(*) FROM smpp.message_correlations WHERE message_id = 'outage-1'`).Scan(&n); err != nil || n != 1 {
			return fmt.Errorf("part not prepared yet (%d, %v)", n, err)
		}
		return nil
	})
	// The submit is on its way: take the table away for longer than a flush may last.
	tx, err := db.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), `LOCK TABLE smpp.message_correlations IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	// Barrier: a flush blocks on the lock and gives up (its 500ms timeout)
	// while the lock is held: the store has failed after the SMSC answered.
	waiters := func() (n int) {
		if err := db.QueryRow(context.Background(), `SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
			WHERE c.relname = 'message_correlations' AND NOT l.granted`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	smpptest.Eventually(t, 10*time.Second, 5*time.Millisecond, func() error {
		if waiters() == 0 {
			return errors.New("no flush waiting on the locked table yet")
		}
		return nil
	})
	smpptest.Eventually(t, 10*time.Second, 5*time.Millisecond, func() error {
		if waiters() != 0 {
			return errors.New("the flush is still waiting")
		}
		return nil
	})
	_ = tx.Rollback(context.Background())
	out := r.WaitEvents(t, natscontract.EventsStream, natscontract.OutcomeSubjectFor("mno-a"), 1)
	if out[0]["outcome"] != "accepted" {
		t.Fatalf("outcome %v", out[0])
	}
	// Barrier: the command is acked; a copy handed back would have been
	// submitted again before that.
	r.WaitHandled(t, seq)
	if n := r.Sim.Stats().Sum("mno-a", "acme", "submit_sm", ""); n != 1 {
		t.Fatalf("%d submit_sm for one message", n)
	}
}

// A JetStream consumer deleted under the Consumer (by an operator, a stream reset) stops
// deliveries: Run says so instead of idling, so the service can react.
func TestRunReportsAConsumerThatStopsDelivering(t *testing.T) {
	r := newRig(t, pipelinetest.Options{})
	r.Publish(t, "before", "consumed")
	r.WaitEvents(t, natscontract.EventsStream, natscontract.OutcomeSubjectFor("mno-a"), 1)
	if err := r.JS.DeleteConsumer(context.Background(), natscontract.DispatchStream, natscontract.ConsumerName("mno-a")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.RunErr:
		if err == nil || !strings.Contains(err.Error(), "stopped delivering") {
			t.Fatalf("Run returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run still idling after its consumer was deleted")
	}
}
