package inbound

import (
	"time"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/store"
)

// A deliver_sm or data_sm is handled in two steps: read decides what it is
// from its bytes and the operator's settings alone (FuzzRead runs it on
// any PDU), then the handler makes it durable and answers.

// verdict is what read found: an MO part (mo), a receipt that cannot be
// read (unreadable: receipt holds what is known of it, to keep), or a
// receipt for the inbox (receipt).
type verdict struct {
	mo         *moRead
	receipt    store.Receipt
	unreadable error
	note       string // the receipt text was not read as its data_coding says (dlr.Receipt.DecodeNote)
	keyErr     error  // the id does not fit the operator's id format: matched as is
}

// read classifies and parses what the SMSC sent. A PDU is a receipt when
// its esm_class or receipted_message_id says so, or, for an operator with
// ReceiptsWithEsmClass0, when its text is in the receipt text's shape
// (dlr.LooksLikeReceipt) and it is not a part of a concatenated message;
// an MO otherwise.
func read(op Operator, in incoming, at time.Time) verdict {
	rin := dlr.Input{EsmClass: in.esmClass, DataCoding: in.dataCoding, DataCoding0: op.DataCoding0,
		ShortMessage: in.text(), TLVs: in.tlvs}
	if !dlr.IsReceipt(in.esmClass, in.tlvs) && !(op.ReceiptsWithEsmClass0 && !in.concatenated() && rin.LooksLikeReceipt()) {
		mo := readMO(in)
		return verdict{mo: &mo}
	}
	raw := rin.ShortMessage
	if len(raw) == 0 { // data_sm, or a deliver_sm with its text in message_payload
		raw = in.tlvs[dlr.TagMessagePayload]
	}
	r, err := dlr.Parse(rin)
	if err != nil {
		return verdict{unreadable: err, receipt: store.Receipt{OperatorID: op.ID, Received: at, Raw: string(raw)}}
	}
	if !r.Final && r.Status.Final() {
		// An intermediate delivery notification (esm_class 0x20) never ends
		// the message, whatever its stat says (a temporary failure while
		// the SMSC retries): stored and published as ENROUTE, with its raw
		// stat, so that the final receipt that follows is the one that counts.
		r.Status = dlr.Enroute
	}
	v := verdict{note: r.DecodeNote}
	key, err := op.IDRule.Key(r.ID, true)
	if err != nil {
		key, v.keyErr = r.ID, err
	}
	v.receipt = store.Receipt{OperatorID: op.ID, SMSCKey: key, RawID: r.ID, Status: r.Status, Stat: r.Stat, Err: r.Err,
		Done: r.Done, Received: at, Raw: string(raw)}
	return v
}
