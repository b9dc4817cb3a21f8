// Package scenario reads simulator scenario files and plays their timeline
// against a running simulator.
//
// A scenario is YAML (JSON is accepted too):
//
//	name: acme-outage
//	seed: 42                       # optional; the simulator's seed otherwise
//	steps:
//	  - at: 0s
//	    reset: true
//	  - at: 5s
//	    mo: {operator: acme, source: "447700900001", destination: ACME, text: STOP}
//	  - at: 10s
//	    add: {name: acme-tps, type: throttle, match: {operator: acme}, params: {tps: 50}}
//	  - at: 40s
//	    remove: acme-tps
//
// Each step does exactly one thing: add a fault (a faults.Spec), remove one by
// name, inject an MO message, or reset the simulator. Steps run in the order
// of their "at" offset from the moment the scenario is started; steps with the
// same offset run in file order. Parsing is strict: an unknown field, a bad
// duration or an invalid fault spec is an error that names the field and the
// line, such as "line 12: steps[2].add.params.tps: must be > 0, got 0".
package scenario

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/smpp-connector/smpp-connector/internal/yamlcheck"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
)

// Scenario is a parsed, validated scenario file.
type Scenario struct {
	Name string `json:"name,omitempty"`
	// Seed, when non-zero, reseeds the simulator's fault registry when the
	// scenario starts, so the faults its steps add repeat run after run.
	Seed  uint64 `json:"seed,omitempty"`
	Steps []Step `json:"steps"`
}

// Step is one timeline entry. Exactly one of Add, Remove, MO and Reset is set.
type Step struct {
	At     Duration     `json:"at"`
	Add    *faults.Spec `json:"add,omitempty"`
	Remove string       `json:"remove,omitempty"`
	MO     *MO          `json:"mo,omitempty"`
	Reset  bool         `json:"reset,omitempty"`

	// Index is the step's position in the file (steps[Index]) and Line its
	// line (0 when unknown); Parse sets them.
	Index int `json:"-"`
	Line  int `json:"-"`
}

// MO is an MO message to inject on an operator.
type MO struct {
	Operator string `json:"operator"`
	faults.MO
}

// Step kinds, as reported by Kind.
const (
	KindAdd    = "add"
	KindRemove = "remove"
	KindMO     = "mo"
	KindReset  = "reset"
)

// Kind names what the step does ("" when it does nothing or several things).
func (s *Step) Kind() string {
	if k := s.kinds(); len(k) == 1 {
		return k[0]
	}
	return ""
}

func (s *Step) kinds() []string {
	var k []string
	if s.Add != nil {
		k = append(k, KindAdd)
	}
	if s.Remove != "" {
		k = append(k, KindRemove)
	}
	if s.MO != nil {
		k = append(k, KindMO)
	}
	if s.Reset {
		k = append(k, KindReset)
	}
	return k
}

// Target is what the step acts on: the fault's name, or the operator of an MO.
func (s *Step) Target() string {
	switch {
	case s.Add != nil:
		return faultName(s.Add)
	case s.Remove != "":
		return s.Remove
	case s.MO != nil:
		return s.MO.Operator
	}
	return ""
}

// String describes the step for logs: `10s add throttle "acme-tps"`.
func (s *Step) String() string {
	switch s.Kind() {
	case KindAdd:
		return fmt.Sprintf("%s add %s %q", s.At, s.Add.Type, faultName(s.Add))
	case KindRemove:
		return fmt.Sprintf("%s remove %q", s.At, s.Remove)
	case KindMO:
		return fmt.Sprintf("%s mo on %q from %s to %s", s.At, s.MO.Operator, s.MO.Source, s.MO.Dest)
	case KindReset:
		return fmt.Sprintf("%s reset", s.At)
	}
	return fmt.Sprintf("%s (invalid step)", s.At)
}

// faultName is the name the registry gives the fault: its name or its type.
func faultName(s *faults.Spec) string {
	if s.Name != "" {
		return s.Name
	}
	return s.Type
}

// Duration is an offset on the timeline. It reads "1.5s" or a number of
// seconds and writes "1.5s".
type Duration time.Duration

// D is the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads "250ms" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := ParseDuration(s)
		*d = v
		return err
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("want a duration like \"1.5s\" or a number of seconds, got %s", b)
	}
	v, err := secondsDuration(secs)
	*d = v
	return err
}

// maxAt bounds offsets so that they cannot overflow when added to a time.
const maxAt = 365 * 24 * time.Hour

// ParseDuration reads "1m30s" (Go syntax) or a bare number of seconds ("90").
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("want a duration like \"10s\", got an empty string")
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return secondsDuration(f)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("want a duration like \"10s\" or \"1m30s\", got %q", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("must not be negative, got %s", v)
	}
	if v > maxAt {
		return 0, fmt.Errorf("must be at most %s, got %s", maxAt, v)
	}
	return Duration(v), nil
}

func secondsDuration(f float64) (Duration, error) {
	if f != f || f < 0 {
		return 0, fmt.Errorf("must not be negative, got %v", f)
	}
	if f > maxAt.Seconds() {
		return 0, fmt.Errorf("must be at most %s, got %vs", maxAt, f)
	}
	return Duration(time.Duration(f * float64(time.Second))), nil
}

// Error is a problem in a scenario: the field path (steps[2].add.params.tps),
// the line when known (0 otherwise) and what is wrong.
type Error = yamlcheck.Error
