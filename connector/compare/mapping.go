package compare

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Mapping says how to read the legacy dispatcher's log: which column (CSV
// header name, or JSON key) holds what, which values mean which outcome,
// how timestamps are written, and which legacy error codes are the same
// as the connector's. A mapping file (YAML, or JSON: YAML reads both)
// overrides the defaults field by field (DefaultMapping).
type Mapping struct {
	// Format is csv, jsonl or auto (the default: JSON lines when the
	// first non-blank byte is '{', CSV otherwise).
	Format string `yaml:"format" json:"format"`
	// Delimiter is the CSV field separator: one character, "," by default.
	Delimiter string        `yaml:"delimiter" json:"delimiter"`
	Columns   Columns       `yaml:"columns" json:"columns"`
	Outcomes  OutcomeValues `yaml:"outcomes" json:"outcomes"`
	// TimestampLayout is RFC3339 (the default: fractions accepted), unix
	// (seconds), unixms, or a Go time layout such as "2006-01-02 15:04:05"
	// (read as UTC).
	TimestampLayout string `yaml:"timestampLayout" json:"timestampLayout"`
	// ErrorEquivalence maps a legacy error code to the connector's code it
	// stands for, both as a log writes them (11, 0x0B, ESME_RINVDSTADR,
	// or a legacy-specific code such as INVALID_MSISDN).
	ErrorEquivalence map[string]string `yaml:"errorEquivalence" json:"errorEquivalence"`

	equiv map[Code]Code
}

// Columns names the legacy log's columns.
type Columns struct {
	MessageID string `yaml:"messageId" json:"messageId"` // the orchestrator's message id
	Operator  string `yaml:"operator" json:"operator"`
	Outcome   string `yaml:"outcome" json:"outcome"`
	ErrorCode string `yaml:"errorCode" json:"errorCode"` // required on rejected lines
	Timestamp string `yaml:"timestamp" json:"timestamp"` // optional: empty for none
}

// OutcomeValues lists the values (compared without case) of each outcome.
type OutcomeValues struct {
	Accepted []string `yaml:"accepted" json:"accepted"`
	Rejected []string `yaml:"rejected" json:"rejected"`
	Unknown  []string `yaml:"unknown" json:"unknown"`
}

// DefaultMapping reads a log with the columns message_id, operator,
// outcome and error_code, no timestamp, and the outcomes accepted/ok/
// success, rejected/failed/error and unknown/timeout.
func DefaultMapping() Mapping {
	return Mapping{
		Format:    "auto",
		Delimiter: ",",
		Columns: Columns{MessageID: "message_id", Operator: "operator", Outcome: "outcome",
			ErrorCode: "error_code"},
		Outcomes: OutcomeValues{
			Accepted: []string{"accepted", "ok", "success"},
			Rejected: []string{"rejected", "failed", "error"},
			Unknown:  []string{"unknown", "timeout"},
		},
		TimestampLayout: "RFC3339",
	}
}

// LoadMapping reads a mapping file over the defaults. An empty path gives
// the defaults. Unknown keys are refused (a misspelt key would otherwise
// leave a default in place unnoticed).
func LoadMapping(path string) (Mapping, error) {
	m := DefaultMapping()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return m, fmt.Errorf("mapping: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&m); err != nil {
			return m, fmt.Errorf("mapping %s: %w", path, err)
		}
	}
	if err := m.validate(); err != nil {
		if path == "" {
			return m, err
		}
		return m, fmt.Errorf("mapping %s: %w", path, err)
	}
	return m, nil
}

func (m *Mapping) validate() error {
	switch m.Format {
	case "auto", "csv", "jsonl":
	default:
		return fmt.Errorf("format %q: want auto, csv or jsonl", m.Format)
	}
	if r := []rune(m.Delimiter); len(r) != 1 || r[0] == '"' || r[0] == '\n' || r[0] == '\r' {
		return fmt.Errorf("delimiter %q: want one character, not a quote or newline", m.Delimiter)
	}
	for _, c := range [][2]string{{"columns.messageId", m.Columns.MessageID},
		{"columns.operator", m.Columns.Operator}, {"columns.outcome", m.Columns.Outcome},
		{"columns.errorCode", m.Columns.ErrorCode}} {
		if strings.TrimSpace(c[1]) == "" {
			return fmt.Errorf("%s: required", c[0])
		}
	}
	seen := map[string]Outcome{}
	for _, ov := range m.outcomeLists() {
		o := ov.o
		for _, v := range ov.values {
			k := strings.ToLower(strings.TrimSpace(v))
			if k == "" {
				return fmt.Errorf("outcomes.%s: empty value", o)
			}
			if prev, ok := seen[k]; ok && prev != o {
				return fmt.Errorf("outcomes: %q is both %s and %s", v, prev, o)
			}
			seen[k] = o
		}
	}
	if len(m.Outcomes.Accepted) == 0 || len(m.Outcomes.Rejected) == 0 {
		return fmt.Errorf("outcomes: want at least one accepted and one rejected value")
	}
	switch m.TimestampLayout {
	case "RFC3339", "unix", "unixms":
	default:
		if !strings.ContainsAny(m.TimestampLayout, "0123456789") {
			return fmt.Errorf("timestampLayout %q: want RFC3339, unix, unixms or a Go layout", m.TimestampLayout)
		}
	}
	m.equiv = map[Code]Code{}
	keys := make([]string, 0, len(m.ErrorEquivalence))
	for k := range m.ErrorEquivalence {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the same error for the same file
	for _, legacy := range keys {
		conn := m.ErrorEquivalence[legacy]
		l, c := ParseCode(legacy), ParseCode(conn)
		if l == "" || c == "" {
			return fmt.Errorf("errorEquivalence: %q: %q: empty code", legacy, conn)
		}
		m.equiv[l] = c
	}
	return nil
}

type outcomeList struct {
	o      Outcome
	values []string
}

func (m *Mapping) outcomeLists() []outcomeList {
	return []outcomeList{{Accepted, m.Outcomes.Accepted}, {Rejected, m.Outcomes.Rejected}, {Unknown, m.Outcomes.Unknown}}
}

// outcome reads an outcome value.
func (m *Mapping) outcome(v string) (Outcome, bool) {
	k := strings.ToLower(strings.TrimSpace(v))
	for _, ov := range m.outcomeLists() {
		for _, x := range ov.values {
			if strings.ToLower(strings.TrimSpace(x)) == k {
				return ov.o, true
			}
		}
	}
	return "", false
}

func (m *Mapping) outcomeValues() string {
	return fmt.Sprintf("accepted %s, rejected %s, unknown %s", strings.Join(m.Outcomes.Accepted, "/"),
		strings.Join(m.Outcomes.Rejected, "/"), strings.Join(m.Outcomes.Unknown, "/"))
}

// code normalises a legacy error code and applies the equivalences.
func (m *Mapping) code(v string) Code {
	c := ParseCode(v)
	if e, ok := m.equiv[c]; ok {
		return e
	}
	return c
}

// timestamp reads a timestamp as the layout says.
func (m *Mapping) timestamp(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	switch m.TimestampLayout {
	case "RFC3339":
		return time.Parse(time.RFC3339Nano, v)
	case "unix", "unixms":
		var n int64
		if _, err := fmt.Sscan(v, &n); err != nil || fmt.Sprint(n) != v {
			return time.Time{}, fmt.Errorf("%q is not an integer (%s)", v, m.TimestampLayout)
		}
		if m.TimestampLayout == "unix" {
			return time.Unix(n, 0).UTC(), nil
		}
		return time.UnixMilli(n).UTC(), nil
	}
	return time.ParseInLocation(m.TimestampLayout, v, time.UTC)
}
