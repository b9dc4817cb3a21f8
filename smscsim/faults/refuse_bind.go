package faults

import (
	"context"
	"encoding/json"

	"github.com/linxGnu/gosmpp/data"
)

// refuse_bind refuses binds in one of two ways:
//
//   - with a bind_resp status (default ESME_RBINDFAIL; ESME_RINVPASWD for a
//     rotated password, ESME_RALYBND for "bind limit reached"): a BindHook that
//     runs before credentials are checked, so even good credentials fail;
//   - with "tcp": true the operator's listener is closed, so connect() itself
//     is refused: a Runner that reopens it when the fault is removed. Only
//     match.operator applies (a listener has no account yet).
type refuseBindParams struct {
	Status statusParam `json:"status,omitempty"`
	TCP    bool        `json:"tcp,omitempty"`
}

type refuseBind struct {
	status data.CommandStatusType
}

type refuseTCP struct{}

func init() {
	Register(Type{
		Name:        "refuse_bind",
		Description: "refuses binds with a status (ESME_RBINDFAIL, ESME_RINVPASWD, ESME_RALYBND) or refuses TCP connections (tcp: true)",
		New:         newRefuseBind,
	})
}

func newRefuseBind(raw json.RawMessage) (Fault, error) {
	var p refuseBindParams
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	if p.TCP {
		if p.Status != "" {
			return nil, paramErr("status", "not used with tcp: true (no bind_resp is sent)")
		}
		return refuseTCP{}, nil
	}
	st, err := p.Status.resolve("status", data.ESME_RBINDFAIL)
	if err != nil {
		return nil, err
	}
	return &refuseBind{status: st}, nil
}

// OnBind answers the bind with the status.
func (r *refuseBind) OnBind(in *Instance, _ *Event, act *Action) {
	act.SetStatus(r.status, in.Spec.Name)
	in.Hit()
}

// Run holds the listeners down until the fault is removed.
func (refuseTCP) Run(ctx context.Context, in *Instance, env Env) {
	down := listenersDown(env, matchedOperators(in, env))
	if len(down) > 0 {
		in.Hit()
	}
	<-ctx.Done()
	listenersUp(env, down)
}
