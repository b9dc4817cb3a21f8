package inbound_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/inbound"
	"github.com/smpp-connector/smpp-connector/connector/internal/pipelinetest"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/session"
	"github.com/smpp-connector/smpp-connector/connector/store"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// An SMSC that restarted counts its message ids from 1 again while rows of
// messages sent 76 minutes earlier still hold them, and sends its receipts
// before its submit_sm_resp. The simulator has no restart yet: the old rows
// are written to the store as the previous process left them (accepted
// under the ids 1..n the simulator hands out next, answered before this
// process's first bind, its id epoch), and the simulator's receipt_early
// fault sends each receipt before its resp (delayed 300 ms). Every receipt event is the new
// message's; none goes to an old one.
// epochRig is a rig whose inbound handler reads its id epoch from the
// rig's pool (built after the handler), with a 72h horizon and a 30 s hold.
func epochRig(t *testing.T) *pipelinetest.Rig {
	var pool atomic.Pointer[session.Pool]
	r := newRig(t, pipelinetest.Options{Inbound: inbound.Operator{
		Epoch: func() time.Time {
			if p := pool.Load(); p != nil {
				return p.Epoch()
			}
			return time.Time{}
		},
		ReceiptHorizon: 72 * time.Hour, ReceiptHold: 30 * time.Second,
	}})
	pool.Store(r.Pool)
	return r
}

func TestReceiptsAfterAnSMSCRestartGoToTheNewMessages(t *testing.T) {
	r := epochRig(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.Pool.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 5
	before := time.Now().Add(-76 * time.Minute)
	for i := 1; i <= n; i++ {
		msg := fmt.Sprintf("old-%d", i)
		if _, err := r.Store.PrepareParts(ctx, store.MessageRef{OperatorID: pipelinetest.Operator, MessageID: msg, PartCount: 1},
			[]store.PartRef{{Number: 1}}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Store.RecordOutcome(ctx, store.Outcome{OperatorID: pipelinetest.Operator, MessageID: msg, Part: 1,
			Kind: store.Accepted, SMSCMessageID: fmt.Sprint(i), SubmittedAt: before, At: before}); err != nil {
			t.Fatal(err)
		}
	}
	// The receipt goes out at once, the resp 300 ms later (a busy SMSC):
	// the receipt is stored first, as in the measured run.
	b, _ := json.Marshal(map[string]any{})
	if _, err := r.Sim.Faults.Add(faults.Spec{Type: "receipt_early", Params: b}); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(map[string]any{"distribution": map[string]any{"kind": "fixed", "value": "300ms"}})
	if _, err := r.Sim.Faults.Add(faults.Spec{Type: "latency", Params: b, Match: faults.Match{Command: "submit_sm"}}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		r.Publish(t, fmt.Sprintf("new-%d", i), "after the restart")
	}
	r.WaitEvents(t, natscontract.ReceiptStream, natscontract.ReceiptSubject, n)
	// Barrier: the connector answered every receipt, and answers only once
	// it is stored (its event in the outbox, published by the relay).
	smpptest.Eventually(t, 20*time.Second, 10*time.Millisecond, func() error {
		if got := r.Sim.Stats().Sum(pipelinetest.Operator, "acme", "receipt_resp", "ESME_ROK"); got < n {
			return fmt.Errorf("%d receipts answered of %d", got, n)
		}
		if st, err := r.Store.Outbox(ctx); err != nil || st.Pending > 0 {
			return fmt.Errorf("outbox: %+v %v", st, err)
		}
		return nil
	})
	got := r.Events(t, natscontract.ReceiptStream, natscontract.ReceiptSubject)
	seen := map[string]bool{}
	for _, ev := range got {
		id, _ := ev["messageId"].(string)
		seen[id] = true
		if len(id) < 4 || id[:4] != "new-" {
			t.Errorf("receipt published under %s, a message from before the restart: %v", id, ev)
		}
	}
	if len(got) != n || len(seen) != n {
		t.Fatalf("%d receipt events for %d messages, want %d each: %v", len(got), len(seen), n, got)
	}
}

// The binds drop for a network cut (the simulator's outage), not a restart:
// a receipt for a message sent before comes after the binds are back, in the
// new epoch. It is held (its part was answered before the epoch), no newer
// message takes its id, and once the hold has passed the sweep (the
// service's maintenance; called here) publishes it under its own message.
func TestReceiptAfterANetworkCutIsPublishedAfterTheHold(t *testing.T) {
	r := epochRig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := r.Pool.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"distribution": map[string]any{"kind": "fixed", "value": "3s"}})
	if _, err := r.Sim.Faults.Add(faults.Spec{Type: "receipt_delay", Params: b}); err != nil {
		t.Fatal(err)
	}
	r.Publish(t, "cut-1", "before the cut")
	r.WaitEvents(t, natscontract.EventsStream, natscontract.OutcomeSubjectFor(pipelinetest.Operator), 1)
	epoch := r.Pool.Epoch()
	b, _ = json.Marshal(map[string]any{"duration": "500ms"})
	if _, err := r.Sim.Faults.Add(faults.Spec{Type: "outage", Params: b}); err != nil {
		t.Fatal(err)
	}
	// The receipt is answered (stored) after the binds came back: held.
	smpptest.Eventually(t, 30*time.Second, 20*time.Millisecond, func() error {
		if got := r.Sim.Stats().Sum(pipelinetest.Operator, "acme", "receipt_resp", "ESME_ROK"); got < 1 {
			return fmt.Errorf("receipt not answered yet")
		}
		return nil
	})
	if e := r.Pool.Epoch(); !e.After(epoch) {
		t.Fatalf("epoch %s after the outage, want after %s", e, epoch)
	}
	// Answered once in the inbox; held once the drainer has applied it.
	smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n, err := r.Store.PendingReceipts(ctx); err != nil || n != 1 {
			return fmt.Errorf("%d receipts held (%v), want 1", n, err)
		}
		return nil
	})
	if got := r.Events(t, natscontract.ReceiptStream, natscontract.ReceiptSubject); len(got) != 0 {
		t.Fatalf("receipt published within the hold: %v", got)
	}
	if got, err := r.Store.SweepHeldReceipts(ctx); err != nil || len(got) != 0 {
		t.Fatalf("swept within the hold: %v %v", got, err)
	}
	// The hold has passed (aged in the table rather than waited for).
	if _, err := r.Store.Pool().Exec(ctx, `UPDATE smpp.pending_receipts SET hold_until = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	got, err := r.Store.SweepHeldReceipts(ctx)
	if err != nil || len(got) != 1 || got[0].Matched.MessageID != "cut-1" || got[0].Matched.Disposition != store.Applied {
		t.Fatalf("swept %+v %v, want the receipt applied to cut-1", got, err)
	}
	ev := r.WaitEvents(t, natscontract.ReceiptStream, natscontract.ReceiptSubject, 1)
	if len(ev) != 1 || ev[0]["messageId"] != "cut-1" {
		t.Fatalf("receipt events %v, want one for cut-1", ev)
	}
}
