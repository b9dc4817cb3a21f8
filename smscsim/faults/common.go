package faults

// Helpers shared by the fault types: parameter errors, command_status
// parameters, the reject action and small runner utilities.

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/linxGnu/gosmpp/data"

	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// paramErr builds "params.<field>: <msg>" so that every invalid setting names
// the JSON field the user has to fix.
func paramErr(field, format string, args ...any) error {
	return fmt.Errorf("params.%s: %s", field, fmt.Sprintf(format, args...))
}

// nestedErr prefixes an error from a nested object's Validate, which starts
// with its own field name: "min: ..." becomes "params.distribution.min: ...".
func nestedErr(field string, err error) error {
	return fmt.Errorf("params.%s.%w", field, err)
}

// statusParam is a command_status given as a name ("ESME_RTHROTTLED") or a
// number (88 or "0x58"). It keeps the text and is resolved by resolve, so
// that the error can name the field.
type statusParam string

// UnmarshalJSON accepts a JSON string or a non-negative JSON number.
func (s *statusParam) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		*s = statusParam(str)
		return nil
	}
	var n uint32
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("status: want a name like ESME_RTHROTTLED or a number, got %s", b)
	}
	*s = statusParam(strconv.FormatUint(uint64(n), 10))
	return nil
}

// resolve returns def when the status was not given.
func (s statusParam) resolve(field string, def data.CommandStatusType) (data.CommandStatusType, error) {
	if s == "" {
		return def, nil
	}
	st, err := wire.ParseStatus(string(s))
	if err != nil {
		return 0, paramErr(field, "%v", err)
	}
	return st, nil
}

// rejectParams are the fields shared by faults that answer with an error.
// Embedded in a params struct, JSON promotes them to the top level.
type rejectParams struct {
	Status      statusParam `json:"status,omitempty"`
	GenericNack bool        `json:"genericNack,omitempty"`
}

// reject is a resolved rejectParams.
type reject struct {
	status data.CommandStatusType
	nack   bool
}

func (p rejectParams) build(def data.CommandStatusType) (reject, error) {
	st, err := p.Status.resolve("status", def)
	return reject{status: st, nack: p.GenericNack}, err
}

// apply answers with the status, or with a generic_nack that carries it.
func (r reject) apply(in *Instance, act *Action) {
	act.SetStatus(r.status, in.Spec.Name)
	if r.nack {
		act.GenericNack = true
	}
	in.Hit()
}

// eventTime is the event's time, or now when the server did not set it.
func eventTime(ev *Event) time.Time {
	if ev.Now.IsZero() {
		return time.Now()
	}
	return ev.Now
}

// matchedOperators is the operator the spec matches, or every operator:
// listener-level faults cannot be narrower than an operator.
func matchedOperators(in *Instance, env Env) []string {
	if op := in.Spec.Match.Operator; op != "" {
		return []string{op}
	}
	return env.Operators()
}

// listenersDown closes the listeners of ops and returns the ones it closed,
// so that only those are reopened (Env counts reasons per listener).
func listenersDown(env Env, ops []string) []string {
	var done []string
	for _, op := range ops {
		if env.SetListenerDown(op, true) == nil {
			done = append(done, op)
		}
	}
	return done
}

func listenersUp(env Env, ops []string) {
	for _, op := range ops {
		_ = env.SetListenerDown(op, false) // nothing better to do when removing a fault
	}
}

// sleepCtx waits for d and reports false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
