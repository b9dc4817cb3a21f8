package faults

import (
	"context"
	"encoding/json"
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/profile"
)

// restart is an SMSC restart: like an outage its listeners close and its
// sessions drop for duration, and the message ids start again from firstId,
// as at SMSCs that number messages from a counter kept in memory. Ids given
// before the restart come back for new messages, which is what a connector
// must survive: receipts of the new messages carry ids its store already
// holds for old ones.
//
// The simulator numbers messages across all its operators (one SMSC cluster:
// a primary and a backup share an id space), so the numbering restarts for
// every operator, whichever the match selects for the listeners. Receipts
// already due stay queued and are delivered after the restart, as from an
// SMSC that keeps its store on disk.
type restart struct {
	duration time.Duration
	firstID  uint64
}

type restartParams struct {
	Duration *profile.Duration `json:"duration,omitempty"`
	FirstID  *uint64           `json:"firstId,omitempty"`
}

// defaultRestartDuration is how long a restart keeps the listeners closed
// when the spec does not say: long enough for clients to see the drop and
// rebind.
const defaultRestartDuration = time.Second

func init() {
	Register(Type{
		Name:        "restart",
		Description: "restarts the SMSC: closes the matched listeners and drops their sessions for a duration, and numbers messages again from firstId (ids are reused)",
		New:         newRestart,
	})
}

func newRestart(raw json.RawMessage) (Fault, error) {
	var p restartParams
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	r := &restart{duration: defaultRestartDuration, firstID: 1}
	if p.Duration != nil {
		if p.Duration.D <= 0 {
			return nil, paramErr("duration", "must be > 0, got %s", p.Duration.D)
		}
		r.duration = p.Duration.D
	}
	if p.FirstID != nil {
		if *p.FirstID == 0 {
			return nil, paramErr("firstId", "must be >= 1, got 0")
		}
		r.firstID = *p.FirstID
	}
	return r, nil
}

// Run takes the listeners down and drops the sessions, restarts the
// numbering while nothing can submit, waits and reopens.
func (r *restart) Run(ctx context.Context, in *Instance, env Env) {
	down := listenersDown(env, matchedOperators(in, env))
	env.Disconnect(in.Spec.Match)
	env.RestartMessageIDs(r.firstID)
	in.Hit()
	sleepCtx(ctx, r.duration)
	listenersUp(env, down)
}
