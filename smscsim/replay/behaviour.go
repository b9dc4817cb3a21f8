package replay

import (
	"time"

	"github.com/linxGnu/gosmpp/data"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
)

// Behaviour is what the SMSC side of a recording did, in the terms the
// simulator can play back. It never holds a password.
type Behaviour struct {
	// Start is the time of the first PDU; MO and disconnect offsets count from it.
	Start time.Time
	// Submits are the answers to submit_sm, in the order the submits arrived.
	Submits []Answer
	// Binds are the answers to binds, in order.
	Binds []Answer
	// Receipts has one entry per accepted submit that asked for a receipt,
	// in the order of the submits.
	Receipts []ReceiptOutcome
	// Style is the final receipts' style (from the first one), nil without receipts.
	Style *faults.ReceiptStyle
	// RespIDFormat is the id format seen in submit_sm_resp ("" if unsure).
	RespIDFormat string
	MOs          []MOEvent
	// Disconnects are the SMSC's disconnects that did not follow a
	// submit_sm_resp (those are Answer.Close), as offsets from Start.
	Disconnects []time.Duration
	// Accounts are the system_ids that bound (never written unless asked).
	Accounts []string
	// Notes say what could not be extracted or will not replay exactly.
	Notes []string
	// PDUs and Conns count what was read.
	PDUs, Conns int
}

// Answer is the SMSC's answer to one request.
type Answer struct {
	Status      data.CommandStatusType
	GenericNack bool
	Delay       time.Duration
	// Close: the SMSC disconnected right after this answer.
	Close bool
	// Drop: no answer was ever seen.
	Drop bool
}

// ReceiptOutcome is what happened to the receipt of one accepted submit.
type ReceiptOutcome struct {
	Delay    time.Duration // from the submit_sm_resp to the (first) receipt
	Stat     string
	Err      string
	Copies   int
	Drop     bool // no receipt in the recording
	Early    bool // the receipt came before the submit_sm_resp
	received bool
	submit   int // index in Submits
}

// MOEvent is a mobile-originated deliver_sm the SMSC sent.
type MOEvent struct {
	At           time.Duration
	Source, Dest string
	Text         string
}
