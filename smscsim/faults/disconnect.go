package faults

import (
	"context"
	"encoding/json"
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/profile"
)

// disconnect drops sessions, in one of three ways (exactly one is set):
//
//   - afterPdus: N   the session is closed on its Nth request, without an
//     answer unless answerFirst (then the response goes out first);
//   - at: "10s"      once, that long after the fault was added;
//   - every: "5s"    repeatedly until the fault is removed.
//
// at/every drop every session the match selects (operator, account).
type disconnectParams struct {
	AfterPDUs   uint64            `json:"afterPdus,omitempty"`
	AnswerFirst bool              `json:"answerFirst,omitempty"`
	At          *profile.Duration `json:"at,omitempty"`
	Every       *profile.Duration `json:"every,omitempty"`
}

// disconnectAfter is the afterPdus form: a RequestHook.
type disconnectAfter struct {
	after       uint64
	answerFirst bool
}

// disconnectTimer is the at/every form: a Runner.
type disconnectTimer struct {
	at, every time.Duration
	repeat    bool
}

func init() {
	Register(Type{
		Name:        "disconnect",
		Description: "closes sessions after N requests (afterPdus), once after a delay (at) or periodically (every)",
		New:         newDisconnect,
	})
}

func newDisconnect(raw json.RawMessage) (Fault, error) {
	var p disconnectParams
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	set := 0
	for _, b := range []bool{p.AfterPDUs != 0, p.At != nil, p.Every != nil} {
		if b {
			set++
		}
	}
	if set != 1 {
		return nil, paramErr("afterPdus", "exactly one of afterPdus (> 0), at and every is required")
	}
	if p.AnswerFirst && p.AfterPDUs == 0 {
		return nil, paramErr("answerFirst", "only used with afterPdus")
	}
	switch {
	case p.AfterPDUs != 0:
		return &disconnectAfter{after: p.AfterPDUs, answerFirst: p.AnswerFirst}, nil
	case p.At != nil:
		if p.At.D < 0 {
			return nil, paramErr("at", "must be >= 0, got %s", p.At.D)
		}
		return &disconnectTimer{at: p.At.D}, nil
	default:
		if p.Every.D <= 0 {
			return nil, paramErr("every", "must be > 0, got %s", p.Every.D)
		}
		return &disconnectTimer{every: p.Every.D, repeat: true}, nil
	}
}

// OnRequest closes the session once it has sent afterPdus requests.
func (d *disconnectAfter) OnRequest(in *Instance, ev *Event, act *Action) {
	if ev.SessionRequests < d.after {
		return
	}
	act.Close = true
	act.Drop = act.Drop || !d.answerFirst
	act.By = append(act.By, in.Spec.Name)
	in.Hit()
}

// Run disconnects at the given time, or every period until ctx ends.
func (d *disconnectTimer) Run(ctx context.Context, in *Instance, env Env) {
	if !d.repeat {
		if sleepCtx(ctx, d.at) {
			env.Disconnect(in.Spec.Match)
			in.Hit()
		}
		return
	}
	t := time.NewTicker(d.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			env.Disconnect(in.Spec.Match)
			in.Hit()
		}
	}
}
