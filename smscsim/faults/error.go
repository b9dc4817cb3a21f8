package faults

import (
	"encoding/json"
)

// errorFault answers matching requests with a fixed command_status (or a
// generic_nack carrying it): the plain error injection.
//
// Without match.command it hits every request the server sees after the bind,
// enquire_link and unbind included; users normally set match.command=submit_sm
// and a probability ("2% of submits fail with ESME_RSYSERR").
type errorFault struct {
	reject reject
}

func init() {
	Register(Type{
		Name:        "error",
		Description: "answers matching requests with a given command_status or generic_nack (usually with match.command=submit_sm)",
		New:         newError,
	})
}

func newError(raw json.RawMessage) (Fault, error) {
	var p rejectParams
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	if p.Status == "" {
		return nil, paramErr("status", "required (a name like ESME_RSYSERR or a number)")
	}
	rej, err := p.build(0)
	if err != nil {
		return nil, err
	}
	return &errorFault{reject: rej}, nil
}

// OnRequest sets the status.
func (e *errorFault) OnRequest(in *Instance, _ *Event, act *Action) {
	e.reject.apply(in, act)
}
