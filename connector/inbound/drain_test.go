package inbound_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/smpp-connector/smpp-connector/connector/inbound"
	"github.com/smpp-connector/smpp-connector/connector/internal/pipelinetest"
	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// A receipt is answered once it is in the inbox, before its part is looked
// up: the SMSC's window frees in the time of one INSERT. Nothing is applied
// or published until a drainer (here: of another process, started later)
// takes it; then the part's state, its event and the inbox agree.
func TestReceiptIsAnsweredFromTheInboxAndAppliedByADrainer(t *testing.T) {
	r := newRig(t, pipelinetest.Options{NoDrainer: true})
	r.Publish(t, "ib-1", "inbox")
	smpptest.Eventually(t, 20*time.Second, 10*time.Millisecond, func() error {
		if n := r.Sim.Stats().Sum(pipelinetest.Operator, "acme", "receipt_resp", "ESME_ROK"); n != 1 {
			return fmt.Errorf("%d receipts answered ESME_ROK", n)
		}
		return nil
	})
	ctx := context.Background()
	var inbox, events int
	var state *string
	if err := r.Store.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM smpp.receipt_inbox),
		(SELECT count(*) FROM smpp.event_outbox WHERE kind = 'receipt'),
		(SELECT receipt_state FROM smpp.message_correlations WHERE message_id = 'ib-1')`).Scan(&inbox, &events, &state); err != nil {
		t.Fatal(err)
	}
	if inbox != 1 || events != 0 || state != nil {
		t.Fatalf("after the answer: %d receipts in the inbox, %d receipt events, state %v; want 1, 0, none", inbox, events, state)
	}
	if got := r.Events(t, natscontract.ReceiptStream, natscontract.ReceiptSubject); len(got) != 0 {
		t.Fatalf("receipt published before it was applied: %v", got)
	}

	m := metrics.New()
	d := inbound.NewDrainer(r.Store, m, pipelinetest.Quiet(), inbound.DrainOptions{})
	if took, _, failed := d.Pass(ctx); took != 1 || failed {
		t.Fatalf("pass took %d receipts, failed %v", took, failed)
	}
	var c dto.Metric
	if err := m.Receipts.WithLabelValues(pipelinetest.Operator, "matched").Write(&c); err != nil {
		t.Fatal(err)
	}
	if n := c.GetCounter().GetValue(); n != 1 {
		t.Fatalf("%v receipts counted matched", n)
	}
	got := r.WaitEvents(t, natscontract.ReceiptStream, natscontract.ReceiptSubject, 1)
	if got[0]["messageId"] != "ib-1" || got[0]["status"] != "DELIVERED" {
		t.Fatalf("receipt event %v", got[0])
	}
	if took, _, _ := d.Pass(ctx); took != 0 {
		t.Fatalf("a second pass took %d receipts", took)
	}
}
