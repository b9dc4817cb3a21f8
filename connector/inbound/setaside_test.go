package inbound_test

import (
	"context"
	"testing"

	"github.com/linxGnu/gosmpp/data"

	"github.com/smpp-connector/smpp-connector/connector/internal/pipelinetest"
	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// A receipt that cannot be read (no id anywhere) is answered ESME_ROK only
// once it is kept in smpp.unmatched_receipts with its raw bytes and why:
// never answered and dropped.
func TestUnreadableReceiptIsKept(t *testing.T) {
	r := newRig(t, pipelinetest.Options{})
	text := []byte("sub:001 dlvrd:001 stat:DELIVRD err:000 \x00 no id here")
	if st := deliverSM(t, r, wire.DeliverSM{SrcTON: 1, SrcNPI: 1, Src: "447700900123", DstTON: 5, Dst: "ACME",
		EsmClass: 0x04, DataCoding: 0, Message: text}); st != data.ESME_ROK {
		t.Fatalf("status %v", st)
	}
	var (
		reason, pdu, detail string
		raw                 []byte
		esm                 int
	)
	if err := r.Store.Pool().QueryRow(context.Background(), `SELECT reason, pdu, detail, raw, esm_class
		FROM smpp.unmatched_receipts WHERE operator_id = $1`, pipelinetest.Operator).Scan(&reason, &pdu, &detail, &raw, &esm); err != nil {
		t.Fatal(err)
	}
	if reason != "unparseable" || pdu != "deliver_sm" || string(raw) != string(text) || esm != 0x04 || detail == "" {
		t.Fatalf("kept %q %q %q %q %#x", reason, pdu, detail, raw, esm)
	}
}

// A receipt that cannot be read and cannot be kept either (the database is
// gone) is not answered ESME_ROK: the SMSC is asked to deliver it again.
func TestUnreadableReceiptNotKeptIsAskedAgain(t *testing.T) {
	r := newRig(t, pipelinetest.Options{})
	r.Store.Close() // idempotent: the rig's cleanup closes it again
	st := deliverSM(t, r, wire.DeliverSM{SrcTON: 1, SrcNPI: 1, Src: "447700900123", DstTON: 5, Dst: "ACME",
		EsmClass: 0x04, Message: []byte("stat:DELIVRD no id")})
	if st != data.ESME_RX_T_APPN {
		t.Fatalf("status %v, want ESME_RX_T_APPN", st)
	}
}
