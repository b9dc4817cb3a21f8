package faults

import (
	"encoding/json"

	"github.com/linxGnu/gosmpp/data"
)

// window models an SMSC that limits how many requests of one session may be
// unanswered at once (the SMPP "window"). A client that pipelines more than
// max gets ESME_RMSGQFUL (or a generic_nack) for the excess.
//
// It applies to every request unless match.command narrows it; set
// match.command=submit_sm to leave enquire_link and unbind alone.
type window struct {
	max    int
	reject reject
}

type windowParams struct {
	Max int `json:"max"`
	rejectParams
}

func init() {
	Register(Type{
		Name:        "window",
		Description: "rejects requests while more than max of the session's requests are unanswered (ESME_RMSGQFUL or generic_nack)",
		New:         newWindow,
	})
}

func newWindow(raw json.RawMessage) (Fault, error) {
	var p windowParams
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	if p.Max <= 0 {
		return nil, paramErr("max", "must be > 0, got %d", p.Max)
	}
	rej, err := p.build(data.ESME_RMSGQFUL)
	if err != nil {
		return nil, err
	}
	return &window{max: p.Max, reject: rej}, nil
}

// OnRequest rejects when the outstanding count, this request included, exceeds max.
func (w *window) OnRequest(in *Instance, ev *Event, act *Action) {
	if ev.Outstanding > w.max {
		w.reject.apply(in, act)
	}
}
