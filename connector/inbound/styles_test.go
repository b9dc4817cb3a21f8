package inbound_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/inbound"
	"github.com/smpp-connector/smpp-connector/connector/internal/pipelinetest"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// Receipt styles of real SMSCs, each sent by the simulator (an independent
// judge: its own encoder) and followed to its sms.dlr.inbound event and the
// part's stored state.

// receiptState is the part's stored receipt state.
func receiptState(t *testing.T, r *pipelinetest.Rig, messageID string) string {
	t.Helper()
	var st *string
	if err := r.Store.Pool().QueryRow(context.Background(),
		`SELECT receipt_state FROM smpp.message_correlations WHERE message_id = $1`, messageID).Scan(&st); err != nil {
		t.Fatal(err)
	}
	if st == nil {
		return ""
	}
	return *st
}

// An intermediate delivery notification (esm_class 0x20) does not end the
// message even when its stat is a final one: ENROUTE, final false, in the
// event and in the database.
func TestIntermediateNotificationIsNotFinal(t *testing.T) {
	esm := byte(0x20)
	r := newRig(t, pipelinetest.Options{Profile: profile.Profile{Receipt: profile.Receipt{ESMClass: &esm}}})
	r.Publish(t, "note-1", "intermediate")
	got := r.WaitEvents(t, natscontract.ReceiptStream, natscontract.ReceiptSubject, 1)[0]
	if got["status"] != "ENROUTE" || got["final"] != false || got["stat"] != "DELIVRD" {
		t.Fatalf("event %v", got)
	}
	if st := receiptState(t, r, "note-1"); st != "ENROUTE" {
		t.Fatalf("stored state %q", st)
	}
}

// Each receipt style of the simulator's catalogue (smscsim/profile
// README), sent for one message: the final receipt ends as a final
// DELIVERED event with the part's stored state agreeing, and every
// intermediate receipt the simulator sent before it as an event with final
// false (or, when it came after the final one, not at all: a final state is
// never overridden).
func TestReceiptStyles(t *testing.T) {
	published := 0 // intermediate events, all styles
	for _, c := range []struct {
		style   string
		inbound inbound.Operator
		// intermediate receipts the simulator sends before the final one
		intermediate int
	}{
		{style: "textbook"},
		{style: "data-sm-receipts"},
		{style: "ucs2-receipts"},
		{style: "bare-status"},
		{style: "esm0-receipts", inbound: inbound.Operator{ReceiptsWithEsmClass0: true}},
		{style: "latin1-mo", inbound: inbound.Operator{DataCoding0: "latin1"}},
		{style: "kannel-smppbox", intermediate: 2},
		{style: "jasmin-accepted-first", intermediate: 1},
		{style: "spec-intermediate", intermediate: 1},
	} {
		t.Run(c.style, func(t *testing.T) {
			r := newRig(t, pipelinetest.Options{Profile: profile.Profile{Style: c.style}, Inbound: c.inbound})
			id := "style-" + c.style
			r.Publish(t, id, "Grüße, "+c.style)
			// The simulator sent every receipt, and the connector answered
			// each: what the connector took is on its way to the stream.
			smpptest.Eventually(t, 15*time.Second, 10*time.Millisecond, func() error {
				if n := r.Sim.Stats().Sum("mno-a", "acme", "receipt_resp", "ESME_ROK"); n < uint64(1+c.intermediate) {
					return fmt.Errorf("%d receipts answered OK of %d", n, 1+c.intermediate)
				}
				return nil
			})
			// The final receipt may have been held for its submit_sm_resp:
			// wait for its event, then take every event there is.
			var finals, intermediates []map[string]any
			smpptest.Eventually(t, 20*time.Second, 20*time.Millisecond, func() error {
				finals, intermediates = nil, nil
				for _, e := range r.Events(t, natscontract.ReceiptStream, natscontract.ReceiptSubject) {
					if e["final"] == true {
						finals = append(finals, e)
					} else {
						intermediates = append(intermediates, e)
					}
				}
				if len(finals) == 0 {
					return fmt.Errorf("no final receipt event yet (%d intermediate)", len(intermediates))
				}
				return nil
			})
			if len(finals) != 1 || finals[0]["status"] != "DELIVERED" || finals[0]["messageId"] != id {
				t.Fatalf("final events %v (intermediate %v)", finals, intermediates)
			}
			if len(intermediates) > c.intermediate {
				t.Fatalf("%d intermediate events, the simulator sent %d: %v", len(intermediates), c.intermediate, intermediates)
			}
			for _, e := range intermediates {
				if s := e["status"]; s != "ENROUTE" && s != "ACCEPTED" {
					t.Fatalf("intermediate event %v", e)
				}
			}
			if st := receiptState(t, r, id); st != "DELIVERED" {
				t.Fatalf("stored state %q", st)
			}
			if mo := r.Events(t, natscontract.EventsStream, natscontract.MOSubject); len(mo) != 0 {
				t.Fatalf("receipts published as MO: %v", mo)
			}
			t.Logf("%s: %d intermediate events of %d sent", c.style, len(intermediates), c.intermediate)
			published += len(intermediates)
		})
	}
	// An intermediate receipt that reached the store after its final one
	// changes nothing (a final state stands): the connector's workers may
	// take two receipts of one message out of order. Not all of them.
	if published == 0 {
		t.Fatal("no intermediate receipt of any style was published")
	}
}
