// Package faults is the simulator's fault registry, modelled on Toxiproxy's
// toxics: each fault type lives in its own small file and registers itself by
// name; instances are added, listed and removed at runtime, each with a
// probability and a match on operator, account, destination prefix and command.
//
// A fault type implements one or more hook interfaces. The server calls the
// hooks of every active, matching instance in the order they were added:
//
//   - BindHook:    a bind request arrived (refuse it, stay silent, ...)
//   - RequestHook: any other request arrived (throttle, error, delay, drop, ...)
//   - ReceiptHook: a delivery receipt is about to be scheduled
//   - Runner:      runs in the background while the fault is active (outage, MO)
package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/linxGnu/gosmpp/data"
)

// Fault is a configured fault type. Implementations keep their own state
// (counters, windows) and must be safe for concurrent use.
type Fault interface{}

// Event describes the PDU a hook is asked about.
type Event struct {
	Operator  string
	Account   string // system_id; empty before a bind succeeded
	SessionID uint64
	Command   data.CommandIDType
	Status    data.CommandStatusType // the status the server is about to answer with
	Sequence  int32
	Dest      string // destination address (submit_sm, data_sm)
	// SessionRequests counts the requests received on this session, this one included.
	SessionRequests uint64
	// Outstanding is the number of requests of this session not answered yet.
	Outstanding int
	Now         time.Time
}

// Action is what the server does with the response. Hooks change it in place.
type Action struct {
	// Status, when non-nil, replaces the response's command_status.
	Status *data.CommandStatusType
	// GenericNack answers with generic_nack (carrying Status or ESME_RTHROTTLED).
	GenericNack bool
	// Delay holds the response back (responses to later requests may overtake it).
	Delay time.Duration
	// Drop sends no response at all (the request is still received and recorded).
	Drop bool
	// Close disconnects the session after the response (or instead of it, with Drop).
	Close bool
	// Raw replaces the response with these bytes (malformed PDUs).
	Raw []byte
	// By names the faults that changed the action, for logs and the recorder.
	By []string
}

// SetStatus sets the response status and remembers which fault did it.
func (a *Action) SetStatus(s data.CommandStatusType, by string) {
	a.Status = &s
	a.By = append(a.By, by)
}

// Rejected reports whether the response will not be a plain success.
func (a *Action) Rejected() bool {
	return a.GenericNack || a.Drop || a.Raw != nil || (a.Status != nil && *a.Status != data.ESME_ROK)
}

// BindHook sees bind requests before credentials are checked.
type BindHook interface {
	OnBind(in *Instance, ev *Event, act *Action)
}

// RequestHook sees every request on a bound session except the bind.
type RequestHook interface {
	OnRequest(in *Instance, ev *Event, act *Action)
}

// ReceiptEvent describes a receipt about to be scheduled.
type ReceiptEvent struct {
	Operator  string
	Account   string
	Dest      string
	MessageID string
	Now       time.Time
}

// ReceiptAction is what happens to a receipt. Hooks change it in place.
type ReceiptAction struct {
	Delay time.Duration
	Drop  bool
	// Copies is how many times the receipt is sent (1 = normal, 2+ = duplicated).
	Copies int
	// Stat is the final state: DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED, ACCEPTD, UNKNOWN, ENROUTE.
	Stat string
	// Err is the receipt's err: field (3 digits).
	Err string
	// Early sends the receipt before the submit_sm_resp.
	Early bool
	// Style, when set, renders the final receipt in a recorded style
	// instead of the profile's (receipt_script).
	Style *ReceiptStyle
	By    []string
}

// ReceiptHook sees each receipt before it is scheduled.
type ReceiptHook interface {
	OnReceipt(in *Instance, ev *ReceiptEvent, act *ReceiptAction)
}

// Runner runs while the fault is active; ctx is cancelled when it is removed.
type Runner interface {
	Run(ctx context.Context, in *Instance, env Env)
}

// MO is a mobile-originated message to inject.
type MO struct {
	Account string `json:"account,omitempty"`
	Source  string `json:"source"`
	Dest    string `json:"destination"`
	Text    string `json:"text"`
	// Encoding: "" is data_coding 0 in the operator's default alphabet
	// (profile dataCoding0: GSM 03.38 unless it says latin1 or ascii); gsm7 is
	// data_coding 0 as GSM septets; latin1 is data_coding 3; ucs2 is 8.
	Encoding string `json:"encoding,omitempty"`
	// Segmentation for long texts: udh8 (default), udh16, sar, payload.
	Segmentation string `json:"segmentation,omitempty"`
}

// Env is what runners may do to the simulator.
type Env interface {
	// SetListenerDown closes (true) or reopens (false) an operator's listener;
	// reasons are counted so that two faults can hold it down independently.
	SetListenerDown(operator string, down bool) error
	// Disconnect drops the sessions that match; it returns how many.
	Disconnect(m Match) int
	// InjectMO sends an MO message to a bound receiver of the operator.
	InjectMO(operator string, mo MO) error
	// Operators lists the operator ids.
	Operators() []string
	// RestartMessageIDs makes the next message id the simulator gives be
	// first (an SMSC restart that reuses its ids).
	RestartMessageIDs(first uint64)
}

// Factory builds a fault from its JSON parameters.
type Factory func(params json.RawMessage) (Fault, error)

// Type describes a registered fault type (for listings and the OpenAPI document).
type Type struct {
	Name        string
	Description string
	New         Factory
}

var types = map[string]Type{}

// Register adds a fault type; it is called from init in each fault's file.
func Register(t Type) {
	if _, dup := types[t.Name]; dup {
		panic("fault type registered twice: " + t.Name)
	}
	types[t.Name] = t
}

// Types lists the registered fault types by name.
func Types() []Type {
	out := make([]Type, 0, len(types))
	for _, t := range types {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// decodeParams unmarshals params strictly so that a misspelt field is an error
// that names it, not a silently ignored setting.
func decodeParams(raw json.RawMessage, v any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("params: %w", err)
	}
	return nil
}
