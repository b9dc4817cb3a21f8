package control

import (
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
)

// The API's own payloads. Everything else is served with the simulator's
// types (faults.Spec, faults.MO, server.Snapshot, meter.Report,
// recorder.Record, scenario.Status) so that the API, the client and the
// simulator cannot drift apart.

// Operator is one virtual SMSC (GET /operators, GET /operators/{id}).
type Operator struct {
	ID       string          `json:"id"`
	Addr     string          `json:"addr"`
	Down     bool            `json:"down"` // listener held down by a fault (outage, refuse_bind tcp)
	Profile  profile.Profile `json:"profile"`
	Accounts []Account       `json:"accounts"`
	Sessions int             `json:"sessions"`
}

// Account is an ESME account of an operator. Passwords are never served.
type Account struct {
	SystemID string `json:"systemId"`
	Sessions int    `json:"sessions"`
	// Queued is how many deliver_sm (receipts, MO) wait for a receiver bind.
	Queued int `json:"queued"`
}

// Passwords is the body of PUT /operators/{id}/accounts/{account}/passwords.
// Giving the old and the new password models a rotation overlap.
type Passwords struct {
	Passwords []string `json:"passwords"`
}

// Fault is an active fault (GET /faults): its spec and what it did.
type Fault struct {
	faults.Spec
	Hits  uint64    `json:"hits"`
	Added time.Time `json:"added"`
	// MO reports the progress of an mo fault.
	MO *MOProgress `json:"mo,omitempty"`
}

// MOProgress is what an mo fault has injected so far.
type MOProgress struct {
	Sent      uint64 `json:"sent"`
	Errors    uint64 `json:"errors"`
	LastError string `json:"lastError,omitempty"`
}

// FaultType is a registered fault type (GET /faults/types).
type FaultType struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// MOQueued answers POST /operators/{id}/mo: the message is queued for the
// account's receiver binds.
type MOQueued struct {
	Operator string `json:"operator"`
	Account  string `json:"account"`
}

// PDUs answers GET /pdus: matching records, oldest first, and the recorder's
// bounds (records beyond Capacity were evicted, oldest first).
type PDUs struct {
	Records  []recorder.Record `json:"records"`
	Capacity int               `json:"capacity"`
	Total    uint64            `json:"total"`
	Evicted  uint64            `json:"evicted"`
}

// Health answers GET /healthz.
type Health struct {
	Status string `json:"status"`
	Uptime string `json:"uptime,omitempty"`
}

// ErrorBody is every error response. Field names the JSON field (or query
// parameter, or scenario path such as steps[2].add.params.tps) at fault when
// known; Line is the scenario line when known.
type ErrorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
	Line  int    `json:"line,omitempty"`
}
