package inbound_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/inbound"
	"github.com/smpp-connector/smpp-connector/connector/internal/pipelinetest"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
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
// DELIVERED event with the part's stored state agreeing, and the
// intermediate receipts the simulator sends before it as events with final
// false, in order. (The final receipt is delayed 300 ms: an intermediate
// receipt that reached the store after its final one would change nothing,
// and the handlers may take two receipts sent back to back out of order.)
func TestReceiptStyles(t *testing.T) {
	for _, c := range []struct {
		style   string
		inbound inbound.Operator
		// intermediate events expected, in order (a second intermediate
		// receipt of the same status is a duplicate: no event)
		intermediate []string
	}{
		{style: "textbook"},
		{style: "data-sm-receipts"},
		{style: "ucs2-receipts"},
		{style: "bare-status"},
		{style: "esm0-receipts", inbound: inbound.Operator{ReceiptsWithEsmClass0: true}},
		{style: "latin1-mo", inbound: inbound.Operator{DataCoding0: "latin1"}},
		{style: "kannel-smppbox", intermediate: []string{"ENROUTE/BUFFRED", "ACCEPTED/ACKED"}},
		{style: "jasmin-accepted-first", intermediate: []string{"ACCEPTED/ACCEPTD"}},
		{style: "spec-intermediate", intermediate: []string{"ENROUTE/SCHEDULED"}},
	} {
		t.Run(c.style, func(t *testing.T) {
			r := newRig(t, pipelinetest.Options{Profile: profile.Profile{Style: c.style}, Inbound: c.inbound})
			if _, err := r.Sim.Faults.Add(faults.Spec{Type: "receipt_delay",
				Params: json.RawMessage(`{"distribution": {"kind": "fixed", "value": "300ms"}}`)}); err != nil {
				t.Fatal(err)
			}
			id := "style-" + c.style
			r.Publish(t, id, "Grüße, "+c.style)
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
			var got []string
			for _, e := range intermediates {
				got = append(got, fmt.Sprintf("%s/%s", e["status"], e["stat"]))
			}
			if fmt.Sprint(got) != fmt.Sprint(c.intermediate) && !(len(got) == 0 && len(c.intermediate) == 0) {
				t.Fatalf("intermediate events %v, want %v", got, c.intermediate)
			}
			if st := receiptState(t, r, id); st != "DELIVERED" {
				t.Fatalf("stored state %q", st)
			}
			if mo := r.Events(t, natscontract.EventsStream, natscontract.MOSubject); len(mo) != 0 {
				t.Fatalf("receipts published as MO: %v", mo)
			}
		})
	}
}
