package faults

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/linxGnu/gosmpp/data"

	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// Spec is how a fault is described in the API, the CLI and scenario files.
type Spec struct {
	// Name identifies the instance; defaults to the type, must be unique.
	Name string `json:"name,omitempty" yaml:"name"`
	Type string `json:"type" yaml:"type"`
	// Probability in [0,1] that the fault acts on a matching event; 0 means 1.
	Probability float64         `json:"probability,omitempty" yaml:"probability"`
	Match       Match           `json:"match,omitempty" yaml:"match"`
	Params      json.RawMessage `json:"params,omitempty" yaml:"-"`
}

// Match restricts a fault to some traffic. Empty fields match everything.
type Match struct {
	Operator          string `json:"operator,omitempty" yaml:"operator"`
	Account           string `json:"account,omitempty" yaml:"account"`
	DestinationPrefix string `json:"destinationPrefix,omitempty" yaml:"destinationPrefix"`
	// Command is an SMPP command name ("submit_sm"); "bind" matches the three binds.
	Command string `json:"command,omitempty" yaml:"command"`

	cmd   data.CommandIDType
	binds bool
}

func (m *Match) compile() error {
	m.cmd, m.binds = 0, false
	switch c := strings.ToLower(strings.TrimSpace(m.Command)); c {
	case "":
	case "bind":
		m.binds = true
	default:
		id, err := wire.ParseCommand(c)
		if err != nil {
			return fmt.Errorf("match.command: %w", err)
		}
		m.cmd = id
	}
	return nil
}

// Matches reports whether an event is in scope.
func (m *Match) Matches(ev *Event) bool {
	if m.Operator != "" && m.Operator != ev.Operator {
		return false
	}
	if m.Account != "" && m.Account != ev.Account {
		return false
	}
	if m.DestinationPrefix != "" && !strings.HasPrefix(ev.Dest, m.DestinationPrefix) {
		return false
	}
	if m.binds {
		return isBind(ev.Command)
	}
	if m.cmd != 0 && m.cmd != ev.Command {
		return false
	}
	return true
}

// MatchesSession reports whether a session (operator, account) is in scope,
// ignoring the per-PDU fields.
func (m *Match) MatchesSession(operator, account string) bool {
	return (m.Operator == "" || m.Operator == operator) && (m.Account == "" || m.Account == account)
}

func isBind(id data.CommandIDType) bool {
	return id == data.BIND_TRANSCEIVER || id == data.BIND_TRANSMITTER || id == data.BIND_RECEIVER
}

// Validate checks the common fields; type parameters are checked by the factory.
func (s *Spec) Validate() error {
	if s.Type == "" {
		return fmt.Errorf("type: required (one of %s)", strings.Join(typeNames(), ", "))
	}
	if _, ok := types[s.Type]; !ok {
		return fmt.Errorf("type: unknown fault type %q (one of %s)", s.Type, strings.Join(typeNames(), ", "))
	}
	if s.Probability < 0 || s.Probability > 1 {
		return fmt.Errorf("probability: %v is outside [0,1]", s.Probability)
	}
	return s.Match.compile()
}

func typeNames() []string {
	var n []string
	for _, t := range Types() {
		n = append(n, t.Name)
	}
	return n
}
