package compare

import (
	"sort"
	"strconv"
	"strings"
)

// Class is how a message's two outcomes relate. Every message in either
// log is in exactly one class.
type Class string

// Classes, in the order they are decided: a message missing on one side
// is only that; a message with a duplicate (on either side) is only that;
// otherwise the two outcomes are compared.
const (
	MissingLegacy         Class = "missing_legacy"    // in the connector's log only
	MissingConnector      Class = "missing_connector" // in the legacy log only
	Duplicate             Class = "duplicate"         // twice in the legacy log, or a part accepted twice by the connector
	AcceptedLegacyOnly    Class = "accepted_legacy_only"
	AcceptedConnectorOnly Class = "accepted_connector_only"
	DifferentError        Class = "different_error"   // both rejected, error codes differ (after errorEquivalence)
	DifferentOutcome      Class = "different_outcome" // rejected on one side, unknown (no response) on the other
	Matched               Class = "matched"
)

// Classes lists the disagreement classes in report order.
var Classes = []Class{AcceptedLegacyOnly, AcceptedConnectorOnly, DifferentError, DifferentOutcome,
	MissingLegacy, MissingConnector, Duplicate}

// Disagreement is a message whose outcomes differ, with both sides.
type Disagreement struct {
	MessageID string `json:"messageId"`
	Operator  string `json:"operator"`
	Class     Class  `json:"class"`
	Legacy    *Side  `json:"legacy,omitempty"`
	Connector *Side  `json:"connector,omitempty"`
}

// Side is one log's account of a message.
type Side struct {
	Outcome Outcome `json:"outcome"`
	Code    Code    `json:"errorCode,omitempty"`
	Line    int     `json:"line"`
	Detail  string  `json:"detail,omitempty"`
}

// Figures counts the messages of a set by class.
type Figures struct {
	Total     int           `json:"total"`
	Matched   int           `json:"matched"`
	MatchRate float64       `json:"matchRate"`
	Classes   map[Class]int `json:"classes"`
}

func (f *Figures) add(c Class) {
	f.Total++
	if c == Matched {
		f.Matched++
	} else {
		f.Classes[c]++
	}
	f.MatchRate = float64(f.Matched) / float64(f.Total)
}

// Result is the join of two logs.
type Result struct {
	Figures
	Operators     map[string]*Figures `json:"operators"`
	Disagreements []Disagreement      `json:"disagreements"`
}

// newFigures starts every class at zero, so that a JSON reader finds each.
func newFigures() *Figures {
	f := &Figures{Classes: map[Class]int{}}
	for _, c := range Classes {
		f.Classes[c] = 0
	}
	return f
}

// Join joins the logs on the orchestrator's message id and classifies
// every message found in either. A message's operator is the legacy log's
// (the system of record), the connector's when the legacy log lacks it.
// Disagreements are sorted by class (Classes order), then message id.
func Join(legacy, connector *Log) *Result {
	res := &Result{Figures: *newFigures(), Operators: map[string]*Figures{}}
	lby, cby := legacy.byID(), connector.byID()
	ldup, cdup := set(legacy.Duplicates), set(connector.Duplicates)
	ids := make([]string, 0, len(lby)+len(cby))
	for id := range lby {
		ids = append(ids, id)
	}
	for id := range cby {
		if _, ok := lby[id]; !ok {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		l, lok := lby[id]
		c, cok := cby[id]
		var class Class
		switch {
		case !lok:
			class = MissingLegacy
		case !cok:
			class = MissingConnector
		case ldup[id] || cdup[id]:
			class = Duplicate
		default:
			class = classify(l, c)
		}
		op := l.Operator
		if !lok || op == "" {
			op = c.Operator
		}
		res.add(class)
		f := res.Operators[op]
		if f == nil {
			f = newFigures()
			res.Operators[op] = f
		}
		f.add(class)
		if class == Matched {
			continue
		}
		d := Disagreement{MessageID: id, Operator: op, Class: class}
		if lok {
			d.Legacy = side(l)
			if ldup[id] {
				d.Legacy.Detail = "also at line(s) " + strings.Join(otherLines(legacy, id, l.Line), ", ")
			}
		}
		if cok {
			d.Connector = side(c)
		}
		res.Disagreements = append(res.Disagreements, d)
	}
	order := map[Class]int{}
	for i, c := range Classes {
		order[c] = i
	}
	sort.SliceStable(res.Disagreements, func(i, j int) bool {
		return order[res.Disagreements[i].Class] < order[res.Disagreements[j].Class]
	})
	return res
}

// classify compares the outcomes of a message found once on each side.
func classify(l, c Record) Class {
	switch {
	case l.Outcome == c.Outcome && (l.Outcome != Rejected || l.Code == c.Code):
		return Matched
	case l.Outcome == Rejected && c.Outcome == Rejected:
		return DifferentError
	case l.Outcome == Accepted:
		return AcceptedLegacyOnly
	case c.Outcome == Accepted:
		return AcceptedConnectorOnly
	}
	return DifferentOutcome
}

func side(r Record) *Side {
	return &Side{Outcome: r.Outcome, Code: r.Code, Line: r.Line, Detail: r.Detail}
}

// otherLines lists the lines of id's records but first.
func otherLines(l *Log, id string, first int) []string {
	var lines []string
	for _, r := range l.Records {
		if r.MessageID == id && r.Line != first {
			lines = append(lines, strconv.Itoa(r.Line))
		}
	}
	return lines
}

func set(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}
