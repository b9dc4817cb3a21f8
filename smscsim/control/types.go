package control

import (
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/api"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
)

// The API's own payloads. The rest is served with the simulator's types
// (faults.Spec, faults.MO, server.Snapshot, meter.Report, recorder.Record,
// scenario.Status); package api mirrors each for the client, and
// TestWireTypesMatchAPI checks that both encode to the same bytes.

// Operator is one virtual SMSC (GET /operators, GET /operators/{id}).
type Operator struct {
	ID       string          `json:"id"`
	Addr     string          `json:"addr"`
	Down     bool            `json:"down"`          // listener held down by a fault (outage, refuse_bind tcp)
	TLS      bool            `json:"tls,omitempty"` // the listener speaks TLS
	Profile  profile.Profile `json:"profile"`
	Accounts []Account       `json:"accounts"`
	Sessions int             `json:"sessions"`
}

// The payloads that hold nothing of the simulator are the API's wire types
// themselves (package smscsim/api, which the client uses).
type (
	Account    = api.Account
	Passwords  = api.Passwords
	MOProgress = api.MOProgress
	FaultType  = api.FaultType
	MOQueued   = api.MOQueued
	Health     = api.Health
	ErrorBody  = api.ErrorBody
)

// Fault is an active fault (GET /faults): its spec and what it did.
type Fault struct {
	faults.Spec
	Hits  uint64    `json:"hits"`
	Added time.Time `json:"added"`
	// MO reports the progress of an mo fault.
	MO *MOProgress `json:"mo,omitempty"`
}

// PDUs answers GET /pdus: matching records, oldest first, and the recorder's
// bounds (records beyond Capacity were evicted, oldest first).
type PDUs struct {
	Records  []recorder.Record `json:"records"`
	Capacity int               `json:"capacity"`
	Total    uint64            `json:"total"`
	Evicted  uint64            `json:"evicted"`
}
