package dispatch

import (
	"github.com/linxGnu/gosmpp/data"

	"github.com/smpp-connector/smpp-connector/connector/session"
)

// Class is what to do with an SMSC's answer to a submit_sm.
type Class int

// Classes of answers.
const (
	Accepted  Class = iota // stored with its SMSC message id
	Temporary              // retry later (after slowing down when throttled)
	Permanent              // final failure: recorded and reported, never retried
)

func (c Class) String() string { return [...]string{"accepted", "temporary", "permanent"}[c] }

// Classify sorts a submit_sm_resp the way Kannel and Jasmin do: congestion,
// throttling, system errors and bind-state errors are temporary; everything
// about the message itself (addresses, lengths, coding, ...) is permanent. A
// generic_nack is temporary: the SMSC did not take the PDU at all.
func Classify(r session.Result) Class {
	if r.OK() {
		return Accepted
	}
	if r.GenericNack {
		return Temporary
	}
	switch r.Status {
	case data.ESME_RTHROTTLED, data.ESME_RMSGQFUL, data.ESME_RSYSERR, data.ESME_RX_T_APPN,
		data.ESME_RINVBNDSTS:
		return Temporary
	}
	return Permanent
}

// Throttling reports answers that mean "too fast": the operator's limiter
// slows down on them.
func Throttling(r session.Result) bool {
	return r.Status == data.ESME_RTHROTTLED || r.Status == data.ESME_RMSGQFUL
}
