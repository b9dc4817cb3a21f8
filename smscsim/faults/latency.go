package faults

import (
	"encoding/json"
)

// latency holds responses back by a random delay, so that a client sees slow
// responses, responses out of order and its own response timeouts.
type latency struct {
	dist Distribution
}

type latencyParams struct {
	Distribution Distribution `json:"distribution"`
}

func init() {
	Register(Type{
		Name:        "latency",
		Description: "delays responses by a fixed, uniform or normal random duration",
		New:         newLatency,
	})
}

func newLatency(raw json.RawMessage) (Fault, error) {
	var p latencyParams
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	if err := p.Distribution.Validate(); err != nil {
		return nil, nestedErr("distribution", err)
	}
	return &latency{dist: p.Distribution}, nil
}

// OnRequest adds to the delay, so two latency faults add up.
func (l *latency) OnRequest(in *Instance, _ *Event, act *Action) {
	act.Delay += l.dist.Sample(in)
	act.By = append(act.By, in.Spec.Name)
	in.Hit()
}
