package faults

import (
	"context"
	"encoding/json"
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/profile"
)

// outage takes operators off the air: their listeners close (binds are
// dropped and new connections refused) for duration, or until the fault is
// removed when no duration is given. Unlike refuse_bind tcp it also
// disconnects the matching sessions that are bound at the start.
type outage struct {
	duration time.Duration // 0: until removed
}

type outageParams struct {
	Duration profile.Duration `json:"duration,omitempty"`
}

func init() {
	Register(Type{
		Name:        "outage",
		Description: "closes the matched operators' listeners and drops their sessions for a duration (or until removed)",
		New:         newOutage,
	})
}

func newOutage(raw json.RawMessage) (Fault, error) {
	var p outageParams
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	if p.Duration.D < 0 {
		return nil, paramErr("duration", "must be >= 0, got %s", p.Duration.D)
	}
	return &outage{duration: p.Duration.D}, nil
}

// Run closes the listeners, drops the sessions, waits and reopens.
func (o *outage) Run(ctx context.Context, in *Instance, env Env) {
	down := listenersDown(env, matchedOperators(in, env))
	env.Disconnect(in.Spec.Match)
	in.Hit()
	if o.duration > 0 {
		sleepCtx(ctx, o.duration)
	} else {
		<-ctx.Done()
	}
	listenersUp(env, down)
}
