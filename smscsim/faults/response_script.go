package faults

import (
	"encoding/json"
	"fmt"

	"github.com/linxGnu/gosmpp/data"

	"github.com/smpp-connector/smpp-connector/smscsim/profile"
)

// response_script answers matching requests from a recorded list: the n-th
// matching request gets the n-th entry's status, delay and disconnect. It is
// what `smscsim replay` writes for a captured SMSC (usually with
// match.command=submit_sm, and one with match.command=bind for the bind
// answers), so that an ESME sees the statuses of the recording in the same
// order, whatever its timing: a throttle replayed by position, not by rate.
//
// An entry with ESME_ROK changes nothing: the simulator's own answer stands,
// so a request it would refuse anyway (not bound) is still refused.
type responseScript struct {
	entries []responseEntry
	seq     *sequence
}

type responseEntry struct {
	status data.CommandStatusType
	nack   bool
	delay  profile.Duration
	close  bool
	drop   bool
}

type responseEntryParams struct {
	Status      statusParam      `json:"status,omitempty"`
	GenericNack bool             `json:"genericNack,omitempty"`
	Delay       profile.Duration `json:"delay,omitzero"`
	// Close disconnects the session after the answer.
	Close bool `json:"close,omitempty"`
	// Drop sends no answer (a request the recorded SMSC never answered).
	Drop bool `json:"drop,omitempty"`
	// Count repeats the entry (0 and 1 mean once).
	Count uint64 `json:"count,omitempty"`
}

type responseScriptParams struct {
	Responses []responseEntryParams `json:"responses"`
	Then      string                `json:"then,omitempty"`
}

func init() {
	Register(Type{
		Name:        "response_script",
		Description: "answers the n-th matching request with the n-th recorded status, delay and disconnect (smscsim replay)",
		New:         newResponseScript,
	})
}

func newResponseScript(raw json.RawMessage) (Fault, error) {
	var p responseScriptParams
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	if len(p.Responses) == 0 {
		return nil, paramErr("responses", "at least one entry is required")
	}
	if len(p.Responses) > maxScript {
		return nil, paramErr("responses", "at most %d entries, got %d", maxScript, len(p.Responses))
	}
	if err := checkThen(p.Then); err != nil {
		return nil, err
	}
	f := &responseScript{}
	counts := make([]uint64, len(p.Responses))
	for i, e := range p.Responses {
		st, err := e.Status.resolve(fmt.Sprintf("responses[%d].status", i), data.ESME_ROK)
		if err != nil {
			return nil, err
		}
		if e.Delay.D < 0 {
			return nil, paramErr(fmt.Sprintf("responses[%d].delay", i), "must not be negative, got %s", e.Delay.D)
		}
		f.entries = append(f.entries, responseEntry{status: st, nack: e.GenericNack, delay: e.Delay, close: e.Close, drop: e.Drop})
		counts[i] = e.Count
	}
	f.seq = newSequence(counts, p.Then)
	return f, nil
}

// OnRequest applies the next entry.
func (f *responseScript) OnRequest(in *Instance, _ *Event, act *Action) { f.apply(in, act) }

// OnBind applies the next entry to a bind (a bind_resp is never delayed:
// the server answers binds at once, so the delay is ignored there).
func (f *responseScript) OnBind(in *Instance, _ *Event, act *Action) { f.apply(in, act) }

func (f *responseScript) apply(in *Instance, act *Action) {
	i, ok := f.seq.next()
	if !ok {
		return
	}
	e := f.entries[i]
	if e.status != data.ESME_ROK || e.nack {
		act.SetStatus(e.status, in.Spec.Name)
	} else {
		act.By = append(act.By, in.Spec.Name)
	}
	act.GenericNack = act.GenericNack || e.nack
	act.Delay += e.delay.D
	act.Close = act.Close || e.close
	act.Drop = act.Drop || e.drop
	in.Hit()
}
