package compare

import (
	"fmt"
	"sort"
	"time"
)

// Outcome is the class of a submit outcome.
type Outcome string

// Outcome classes. The legacy dispatcher logs accepted or rejected (and,
// where it has one, a timeout outcome mapped to unknown); the connector
// reports unknown when no submit_sm_resp came in time.
const (
	Accepted Outcome = "accepted"
	Rejected Outcome = "rejected"
	Unknown  Outcome = "unknown"
)

// Record is one message's outcome as one log tells it.
type Record struct {
	MessageID string
	Operator  string
	Outcome   Outcome
	// Code is the normalised error code of a rejection (Code), empty
	// otherwise.
	Code Code
	// At is the record's timestamp; zero when the log has none.
	At time.Time
	// Line is the line of the record in its file (the first part's line
	// for a connector message of several parts).
	Line int
	// Detail says more: the connector's status text, missing parts.
	Detail string
	// Parts is the connector's number of parts (0 for the legacy log).
	Parts int
}

// LineError is a line that could not be read: it names the file, the line
// and, where one is at fault, the field.
type LineError struct {
	File  string `json:"file"`
	Line  int    `json:"line"`
	Field string `json:"field,omitempty"`
	Msg   string `json:"error"`
}

func (e *LineError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s:%d: field %q: %s", e.File, e.Line, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Log is what a reader made of one file. Every line is accounted for:
// read into a record, skipped (with the reason counted: blank lines,
// receipt events, other log lines) or invalid (with its error).
type Log struct {
	File  string
	Lines int // lines read, header included
	// Events counts the lines read as outcomes: one a record in the
	// legacy log, one a part's event in the connector's.
	Events int
	// Records holds every record in file order; duplicates included.
	Records []Record
	// Duplicates lists the message ids found more than once (legacy: a
	// message id on two lines; connector: a part accepted under two
	// different SMSC message ids, i.e. submitted twice), sorted.
	Duplicates []string
	Skipped    map[string]int
	Invalid    []*LineError
	// Repeats counts connector events that repeat a part's outcome
	// (rejected again, unknown then accepted, a relay's replay): the
	// store's rule resolves them, they are not disagreements.
	Repeats int
}

func newLog(file string) *Log {
	return &Log{File: file, Skipped: map[string]int{}}
}

func (l *Log) skip(reason string) { l.Skipped[reason]++ }

func (l *Log) invalid(line int, field, format string, args ...any) {
	l.Invalid = append(l.Invalid, &LineError{File: l.File, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// SkippedTotal is the number of lines skipped for any reason.
func (l *Log) SkippedTotal() int {
	n := 0
	for _, v := range l.Skipped {
		n += v
	}
	return n
}

// byID indexes the records by message id (the first record of an id wins;
// the id is then also in Duplicates).
func (l *Log) byID() map[string]Record {
	m := make(map[string]Record, len(l.Records))
	for _, r := range l.Records {
		if _, ok := m[r.MessageID]; !ok {
			m[r.MessageID] = r
		}
	}
	return m
}

// findDuplicates fills Duplicates with the message ids of more than one record.
func (l *Log) findDuplicates() {
	seen := map[string]int{}
	for _, r := range l.Records {
		seen[r.MessageID]++
	}
	for id, n := range seen {
		if n > 1 {
			l.Duplicates = append(l.Duplicates, id)
		}
	}
	sort.Strings(l.Duplicates)
}

// Span returns the first and last record timestamps (zero without any).
func (l *Log) Span() (first, last time.Time) {
	for _, r := range l.Records {
		if r.At.IsZero() {
			continue
		}
		if first.IsZero() || r.At.Before(first) {
			first = r.At
		}
		if r.At.After(last) {
			last = r.At
		}
	}
	return first, last
}
