package inbound_test

import (
	"context"
	"testing"

	"github.com/smpp-connector/smpp-connector/connector/internal/pipelinetest"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
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
