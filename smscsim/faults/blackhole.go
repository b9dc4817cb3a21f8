package faults

import (
	"encoding/json"
)

// blackhole keeps TCP open but never answers: requests are read (and
// recorded) and then ignored. It is a BindHook too, so binds hang as well;
// with match.command=bind it silences only binds, which is what a client
// without a bind_resp deadline hangs on forever.
type blackhole struct{}

func init() {
	Register(Type{
		Name:        "blackhole",
		Description: "reads requests and binds but never answers them (TCP stays open)",
		New:         newBlackhole,
	})
}

func newBlackhole(raw json.RawMessage) (Fault, error) {
	if err := decodeParams(raw, &struct{}{}); err != nil {
		return nil, err
	}
	return blackhole{}, nil
}

// OnRequest drops the response.
func (blackhole) OnRequest(in *Instance, _ *Event, act *Action) { drop(in, act) }

// OnBind drops the bind_resp.
func (blackhole) OnBind(in *Instance, _ *Event, act *Action) { drop(in, act) }

func drop(in *Instance, act *Action) {
	act.Drop = true
	act.By = append(act.By, in.Spec.Name)
	in.Hit()
}
