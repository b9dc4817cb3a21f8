package inbound_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
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
// false, in order, the last always. (The handlers may take two receipts
// sent back to back out of order: the store then finds the first one older
// than the state it has, Stale, with no event, so an earlier intermediate
// event may be missing but never out of order; every receipt is counted on
// the part. The final receipt is delayed 300 ms, so that the last
// intermediate one is not stale too.)
func TestReceiptStyles(t *testing.T) {
	for _, c := range []struct {
		style   string
		inbound inbound.Operator
		// intermediate receipts sent before the final one, as status/stat
		// (intermediateEventsFit says which events they may give)
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
		{style: "spec-intermediate", intermediate: []string{"ENROUTE/SCHEDULED", "ENROUTE/ENROUTE"}},
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
			if !intermediateEventsFit(got, c.intermediate) {
				t.Fatalf("intermediate events %v do not fit the receipts sent %v", got, c.intermediate)
			}
			if st := receiptState(t, r, id); st != "DELIVERED" {
				t.Fatalf("stored state %q", st)
			}
			var count int
			if err := r.Store.Pool().QueryRow(context.Background(),
				`SELECT receipt_count FROM smpp.message_correlations WHERE message_id = $1`, id).Scan(&count); err != nil {
				t.Fatal(err)
			}
			if count != len(c.intermediate)+1 {
				t.Fatalf("receipt_count %d, want %d (every receipt sent)", count, len(c.intermediate)+1)
			}
			if mo := r.Events(t, natscontract.EventsStream, natscontract.MOSubject); len(mo) != 0 {
				t.Fatalf("receipts published as MO: %v", mo)
			}
		})
	}
}

// intermediateEventsFit reports whether got, the intermediate events
// (status/stat), fit the intermediate receipts sent (status/stat, in
// order): got is sent with some left out (a stale receipt, or a repeat of
// the state before it: a duplicate), in order, never the same status
// twice in a row, and its last status is the last one sent (the state the
// part ends in before its final receipt). Both empty: true.
func intermediateEventsFit(got, sent []string) bool {
	if len(sent) == 0 || len(got) == 0 {
		return len(got) == len(sent)
	}
	status := func(e string) string { return strings.SplitN(e, "/", 2)[0] }
	if status(got[len(got)-1]) != status(sent[len(sent)-1]) {
		return false
	}
	i := 0
	for j, g := range got {
		if j > 0 && status(got[j-1]) == status(g) {
			return false
		}
		for i < len(sent) && sent[i] != g {
			i++
		}
		if i == len(sent) {
			return false
		}
		i++
	}
	return true
}

func TestIntermediateEventsFit(t *testing.T) {
	sent := []string{"ENROUTE/BUFFRED", "ACCEPTED/ACKED"}
	spec := []string{"ENROUTE/SCHEDULED", "ENROUTE/ENROUTE"}
	for _, c := range []struct {
		got, sent []string
		want      bool
	}{
		{nil, nil, true},
		{sent, sent, true},
		{[]string{"ACCEPTED/ACKED"}, sent, true},
		{[]string{"ACCEPTED/ACKED", "ENROUTE/BUFFRED"}, sent, false},
		{[]string{"ENROUTE/BUFFRED"}, sent, false},
		{nil, sent, false},
		{[]string{"ENROUTE/SCHEDULED"}, spec, true},
		{[]string{"ENROUTE/ENROUTE"}, spec, true},
		{spec, spec, false},
		{[]string{"ACCEPTED/ACKED"}, nil, false},
	} {
		if got := intermediateEventsFit(c.got, c.sent); got != c.want {
			t.Errorf("intermediateEventsFit(%v, %v) = %v", c.got, c.sent, got)
		}
	}
}
