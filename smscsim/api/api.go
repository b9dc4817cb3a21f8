// Package api holds the wire types of the simulator's control API (package
// smscsim/control serves them, package smscsim/client sends and reads them).
// It needs nothing but the standard library, so a client of the API links
// none of the simulator, as Toxiproxy's client links none of Toxiproxy.
//
// Where the server answers with the simulator's own types (a fault spec, an
// operator's profile, a recorded PDU, a stats snapshot, a meter report, a
// scenario status), the type here has the same JSON fields; control's tests
// check that each encodes to the same bytes both ways, so the two cannot
// drift apart unnoticed.
package api

import (
	"encoding/json"
	"fmt"
	"time"
)

// Spec describes one fault to add (POST /faults).
type Spec struct {
	// Name identifies the instance; defaults to the type, must be unique.
	Name string `json:"name,omitempty"`
	Type string `json:"type"`
	// Probability in [0,1] that the fault acts on a matching event; 0 means 1.
	Probability float64         `json:"probability,omitempty"`
	Match       Match           `json:"match,omitempty"`
	Params      json.RawMessage `json:"params,omitempty"`
}

// Match restricts a fault to some traffic. Empty fields match everything.
type Match struct {
	Operator          string `json:"operator,omitempty"`
	Account           string `json:"account,omitempty"`
	DestinationPrefix string `json:"destinationPrefix,omitempty"`
	// Command is an SMPP command name ("submit_sm"); "bind" matches the three binds.
	Command string `json:"command,omitempty"`
}

// MO is a mobile-originated message to inject (POST /operators/{id}/mo).
type MO struct {
	Account string `json:"account,omitempty"`
	Source  string `json:"source"`
	Dest    string `json:"destination"`
	Text    string `json:"text"`
	// Encoding: "" is data_coding 0 in the operator's default alphabet;
	// gsm7, latin1 (data_coding 3), ucs2 (8), auto.
	Encoding string `json:"encoding,omitempty"`
	// Segmentation for long texts: udh8 (default), udh16, sar, payload.
	Segmentation string `json:"segmentation,omitempty"`
}

// Operator is one virtual SMSC (GET /operators, GET /operators/{id}).
type Operator struct {
	ID       string    `json:"id"`
	Addr     string    `json:"addr"`
	Down     bool      `json:"down"`          // listener held down by a fault (outage, refuse_bind tcp)
	TLS      bool      `json:"tls,omitempty"` // the listener speaks TLS
	Profile  Profile   `json:"profile"`
	Accounts []Account `json:"accounts"`
	Sessions int       `json:"sessions"`
}

// Account is an ESME account of an operator. Passwords are never served.
type Account struct {
	SystemID string `json:"systemId"`
	Sessions int    `json:"sessions"`
	// Queued is how many deliver_sm (receipts, MO) wait for a receiver bind.
	Queued int `json:"queued"`
}

// Profile is an operator's protocol quirks (see smscsim/profile).
type Profile struct {
	Name                string    `json:"name,omitempty"`
	Style               string    `json:"style,omitempty"`
	MessageID           IDFormat  `json:"messageId"`
	ReceiptMessageID    *IDFormat `json:"receiptMessageId,omitempty"`
	Receipt             Receipt   `json:"receipt"`
	DataCoding0         string    `json:"dataCoding0,omitempty"`
	EnquireLinkInterval Duration  `json:"enquireLinkInterval,omitempty"`
	IdleTimeout         Duration  `json:"idleTimeout,omitempty"`
}

// IDFormat is how an operator renders message ids.
type IDFormat struct {
	Format string `json:"format"`
	Width  int    `json:"width,omitempty"`
}

// Receipt describes the delivery receipts an operator sends.
type Receipt struct {
	Carry                string   `json:"carry,omitempty"`
	Text                 string   `json:"text,omitempty"`
	ESMClass             *byte    `json:"esmClass,omitempty"`
	Parts                string   `json:"parts,omitempty"`
	PDU                  string   `json:"pdu,omitempty"`
	DataCoding           byte     `json:"dataCoding,omitempty"`
	Intermediate         []string `json:"intermediate,omitempty"`
	IntermediateESMClass *byte    `json:"intermediateEsmClass,omitempty"`
}

// Duration reads and writes "1.5s"; it also reads a number of seconds.
type Duration struct{ D time.Duration }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.D.String()) }

// UnmarshalJSON reads "250ms" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: %w", s, err)
		}
		d.D = v
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("duration: want a string like \"1.5s\" or a number of seconds, got %s", b)
	}
	d.D = time.Duration(secs * float64(time.Second))
	return nil
}

// Passwords is the body of PUT /operators/{id}/accounts/{account}/passwords.
// Giving the old and the new password models a rotation overlap.
type Passwords struct {
	Passwords []string `json:"passwords"`
}

// Fault is an active fault (GET /faults): its spec and what it did.
type Fault struct {
	Spec
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

// Record is one PDU the simulator received and how it answered.
type Record struct {
	Seq        uint64    `json:"seq"`
	Time       time.Time `json:"time"`
	Operator   string    `json:"operator"`
	Account    string    `json:"account,omitempty"`
	SessionID  uint64    `json:"sessionId"`
	Command    string    `json:"command"`
	Sequence   int32     `json:"sequenceNumber"`
	Status     string    `json:"responseStatus,omitempty"`
	Source     string    `json:"source,omitempty"`
	Dest       string    `json:"destination,omitempty"`
	EsmClass   byte      `json:"esmClass,omitempty"`
	DataCoding byte      `json:"dataCoding,omitempty"`
	RegDlr     byte      `json:"registeredDelivery,omitempty"`
	Text       string    `json:"text,omitempty"`
	UDH        string    `json:"udh,omitempty"`
	TLVs       []string  `json:"tlvs,omitempty"`
	MessageID  string    `json:"messageId,omitempty"`
	Faults     []string  `json:"faults,omitempty"`
	Error      string    `json:"error,omitempty"`
}

// Filter selects recorded PDUs (GET /pdus query); empty fields match all.
type Filter struct {
	Operator   string
	Account    string
	Command    string
	DestPrefix string
	Since      time.Time
	Until      time.Time
	AfterSeq   uint64 // only records with Seq > AfterSeq
	Limit      int    // newest N when > 0
}

// PDUs answers GET /pdus: matching records, oldest first, and the recorder's
// bounds (records beyond Capacity were evicted, oldest first).
type PDUs struct {
	Records  []Record `json:"records"`
	Capacity int      `json:"capacity"`
	Total    uint64   `json:"total"`
	Evicted  uint64   `json:"evicted"`
}

// Snapshot answers GET /stats: counters, sessions and queue depths.
type Snapshot struct {
	Time      time.Time                 `json:"time"`
	Uptime    string                    `json:"uptime"`
	Counts    []Count                   `json:"counts"`
	Sessions  []SessionInfo             `json:"sessions"`
	Queues    map[string]map[string]int `json:"receiptQueues"` // operator -> account -> waiting deliver_sm
	Scheduled map[string]int            `json:"receiptsScheduled"`
	// DeliverResp is deliver_sm to deliver_sm_resp, every operator's.
	DeliverResp Latency `json:"deliverResp"`
}

// Latency is exact quantiles of the latest values of a latency, in
// milliseconds: Count values were recorded, the quantiles are of the latest
// Samples of them.
type Latency struct {
	Count   uint64  `json:"count"`
	Samples int     `json:"samples"`
	P50Ms   float64 `json:"p50Ms"`
	P99Ms   float64 `json:"p99Ms"`
	MaxMs   float64 `json:"maxMs"`
}

// Count is one counter of the snapshot.
type Count struct {
	Operator string `json:"operator"`
	Account  string `json:"account,omitempty"`
	Command  string `json:"command"`
	Outcome  string `json:"outcome"`
	Count    uint64 `json:"count"`
}

// SessionInfo is one connected session.
type SessionInfo struct {
	ID          uint64    `json:"id"`
	Operator    string    `json:"operator"`
	Account     string    `json:"account,omitempty"`
	BindType    string    `json:"bindType"`
	Remote      string    `json:"remote"`
	Since       time.Time `json:"since"`
	Outstanding int       `json:"outstanding"`
	// PasswordRetired: bound with a password the account no longer accepts
	// (a rotation's overlap has ended since).
	PasswordRetired bool `json:"passwordRetired,omitempty"`
}

// MeterReport is one account's TPS audit (GET /meter).
type MeterReport struct {
	Account            string    `json:"account"`
	Limit              int       `json:"limit"`
	Mode               string    `json:"mode"`
	Arrivals           uint64    `json:"arrivals"`
	Breaches           uint64    `json:"breaches"`
	FixedWindowsOver   uint64    `json:"fixedWindowsOver"`
	SlidingBreaches    uint64    `json:"slidingBreaches"`
	WorstFixedWindow   int       `json:"worstFixedWindow"`
	WorstSlidingWindow int       `json:"worstSlidingWindow"`
	CurrentTPS         int       `json:"currentTps"`
	First              time.Time `json:"first,omitzero"`
	Last               time.Time `json:"last,omitzero"`
}

// ScenarioStatus answers the scenario routes: the timeline and how far it ran.
type ScenarioStatus struct {
	Name    string       `json:"name,omitempty"`
	Seed    uint64       `json:"seed"`
	State   string       `json:"state"`
	Started time.Time    `json:"started"`
	Ended   time.Time    `json:"ended,omitzero"`
	Elapsed string       `json:"elapsed"`
	Done    int          `json:"done"`
	Pending int          `json:"pending"`
	Failed  int          `json:"failed"`
	Next    *Duration    `json:"next,omitempty"`
	Steps   []StepStatus `json:"steps"`
}

// StepStatus is one step of the timeline, in the order it runs.
type StepStatus struct {
	Index  int       `json:"index"`
	Line   int       `json:"line,omitempty"`
	At     Duration  `json:"at"`
	Action string    `json:"action"`
	Target string    `json:"target,omitempty"`
	Done   bool      `json:"done"`
	Ran    time.Time `json:"ran,omitzero"`
	Error  string    `json:"error,omitempty"`
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
