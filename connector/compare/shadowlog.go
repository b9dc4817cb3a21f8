package compare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/smpp-connector/smpp-connector/connector/events"
)

// ReadConnector reads the connector's outcome log: JSON lines, each one of
//
//   - an outcome event, as published on smpp.outcome.{operatorId} or as
//     the psql export in README.md writes it;
//   - a line of the shadow comparison log, {"kind":..., "at":...,
//     "event":{...}}: kind outcome is read, receipt and mo are skipped;
//   - a line of the connector's own log (SMPP_LOG_FORMAT json or text),
//     where a shadow replica writes that comparison log as msg "shadow"
//     with the line in "event": other log lines are skipped.
//
// Skipped lines are counted by reason. The parts of a message are joined
// into the message's outcome (join.go: messageOutcome).
func ReadConnector(file string, r io.Reader) (*Log, error) {
	l := newLog(file)
	parts := map[string][]part{} // message id -> parts in file order
	var order []string
	err := readJSONLines(l, r, func(line int, b []byte) {
		ev, ok := connectorLine(l, line, b)
		if !ok {
			return
		}
		l.Events++
		if _, seen := parts[ev.MessageID]; !seen {
			order = append(order, ev.MessageID)
		}
		parts[ev.MessageID] = append(parts[ev.MessageID], part{line: line, ev: ev})
	})
	if err != nil {
		return l, err
	}
	for _, id := range order {
		rec, repeats, dup := messageOutcome(parts[id])
		l.Records = append(l.Records, rec)
		l.Repeats += repeats
		if dup {
			l.Duplicates = append(l.Duplicates, id)
		}
	}
	sort.Strings(l.Duplicates)
	return l, nil
}

type part struct {
	line int
	ev   events.Outcome
}

// connectorLine reads one line into an outcome event, or counts it as
// skipped or invalid.
func connectorLine(l *Log, line int, b []byte) (events.Outcome, bool) {
	if b[0] != '{' {
		// The connector's log in text format: time=... level=INFO msg=shadow event="{...}"
		if !bytes.HasPrefix(b, []byte("time=")) || !bytes.Contains(b, []byte(" msg=")) {
			if json.Valid(b) {
				l.invalid(line, "", "want a JSON object, got %.40s", b)
			} else {
				l.invalid(line, "", "not JSON, nor a line of the connector's log")
			}
			return events.Outcome{}, false
		}
		if textValue(b, "msg") != "shadow" {
			l.skip("log line (not a shadow event)")
			return events.Outcome{}, false
		}
		_, q, _ := bytes.Cut(b, []byte(" event="))
		s, err := strconv.QuotedPrefix(string(q))
		if err != nil {
			l.invalid(line, "event", "want the comparison log line as a quoted string")
			return events.Outcome{}, false
		}
		inner, _ := strconv.Unquote(s)
		return envelope(l, line, []byte(inner))
	}
	obj, err := topLevel(b)
	if err != nil {
		field, msg := jsonError(err)
		l.invalid(line, field, "%s", msg)
		return events.Outcome{}, false
	}
	if _, ok := obj["msg"]; ok {
		// The connector's log in JSON format.
		var msg, inner string
		if json.Unmarshal(obj["msg"], &msg) != nil || msg != "shadow" {
			l.skip("log line (not a shadow event)")
			return events.Outcome{}, false
		}
		if err := json.Unmarshal(obj["event"], &inner); err != nil {
			l.invalid(line, "event", "want the comparison log line as a string")
			return events.Outcome{}, false
		}
		return envelope(l, line, []byte(inner))
	}
	if _, ok := obj["kind"]; ok {
		return envelope(l, line, b)
	}
	return outcome(l, line, b)
}

// textValue is the value of the first key=value of a slog text line.
func textValue(b []byte, key string) string {
	_, v, ok := bytes.Cut(b, []byte(" "+key+"="))
	if !ok {
		return ""
	}
	if len(v) > 0 && v[0] == '"' {
		q, err := strconv.QuotedPrefix(string(v))
		if err != nil {
			return ""
		}
		s, _ := strconv.Unquote(q)
		return s
	}
	s, _, _ := bytes.Cut(v, []byte(" "))
	return string(s)
}

// topLevel returns an object's members, the first of each name: slog
// writes an attribute named msg after the message's own msg key, and
// encoding/json would keep the last.
func topLevel(b []byte) (map[string]json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, err // the well-worded error, for a line that is not an object
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.Token() // {
	first := make(map[string]json.RawMessage, len(obj))
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if key, _ := k.(string); first[key] == nil {
			first[key] = v
		}
	}
	return first, nil
}

// envelope reads a line of the shadow comparison log (connector/events,
// Publisher.compare).
func envelope(l *Log, line int, b []byte) (events.Outcome, bool) {
	var e struct {
		Kind  string          `json:"kind"`
		Event json.RawMessage `json:"event"`
	}
	if err := json.Unmarshal(b, &e); err != nil {
		field, msg := jsonError(err)
		l.invalid(line, field, "%s", msg)
		return events.Outcome{}, false
	}
	switch e.Kind {
	case "outcome":
		if len(e.Event) == 0 {
			l.invalid(line, "event", "missing")
			return events.Outcome{}, false
		}
		return outcome(l, line, e.Event)
	case "receipt", "mo":
		l.skip(e.Kind + " event")
		return events.Outcome{}, false
	}
	l.invalid(line, "kind", "unknown kind %q (want outcome, receipt or mo)", e.Kind)
	return events.Outcome{}, false
}

// outcome reads and checks an outcome event.
func outcome(l *Log, line int, b []byte) (events.Outcome, bool) {
	var ev events.Outcome
	if err := json.Unmarshal(b, &ev); err != nil {
		field, msg := jsonError(err)
		l.invalid(line, field, "%s", msg)
		return ev, false
	}
	switch {
	case strings.TrimSpace(ev.MessageID) == "":
		l.invalid(line, "messageId", "missing or empty")
	case ev.OperatorID == "":
		l.invalid(line, "operatorId", "missing or empty")
	case ev.Outcome != string(Accepted) && ev.Outcome != string(Rejected) && ev.Outcome != string(Unknown):
		l.invalid(line, "outcome", "unknown outcome value %q (want accepted, rejected or unknown)", ev.Outcome)
	case ev.PartNumber < 0 || ev.PartCount < 0 || ev.PartNumber > ev.PartCount && ev.PartCount > 0:
		l.invalid(line, "partNumber", "part %d of %d", ev.PartNumber, ev.PartCount)
	default:
		ev.MessageID = strings.TrimSpace(ev.MessageID)
		if ev.PartNumber == 0 {
			ev.PartNumber = 1
		}
		if ev.PartCount == 0 {
			ev.PartCount = 1
		}
		return ev, true
	}
	return ev, false
}

// rank orders outcomes as the store applies them: a part's outcome moves
// only up (accepted > rejected > unknown), and a repeated rejected or
// unknown replaces the previous one (connector/store, outcomeSQL).
func rank(o string) int {
	switch Outcome(o) {
	case Accepted:
		return 3
	case Rejected:
		return 2
	}
	return 1
}

// messageOutcome joins a message's part events into its outcome: each
// part's outcome is the one the store keeps; the message is accepted when
// every part is, rejected when a part is (with the first such part's
// code), unknown otherwise, and unknown too when a part has no outcome at
// all. repeats counts the events the store's rule set aside; dup is set
// when a part was accepted under two SMSC message ids (sent twice).
func messageOutcome(ps []part) (rec Record, repeats int, dup bool) {
	final := map[int]events.Outcome{}
	accepted := map[int]string{}
	count := 0
	dupDetail := ""
	for _, p := range ps {
		ev := p.ev
		count = max(count, ev.PartCount)
		if ev.Outcome == string(Accepted) {
			if prev, ok := accepted[ev.PartNumber]; ok && prev != ev.SMSCMessageID && !dup {
				dup = true
				dupDetail = fmt.Sprintf("part %d accepted twice: SMSC ids %q, %q", ev.PartNumber, prev, ev.SMSCMessageID)
			}
			accepted[ev.PartNumber] = ev.SMSCMessageID
		}
		cur, ok := final[ev.PartNumber]
		if ok {
			repeats++
		}
		if !ok || rank(ev.Outcome) > rank(cur.Outcome) || rank(ev.Outcome) == rank(cur.Outcome) && ev.Outcome != string(Accepted) {
			final[ev.PartNumber] = ev
		}
	}
	first := ps[0].ev
	rec = Record{MessageID: first.MessageID, Operator: first.OperatorID, Line: ps[0].line, Parts: count, Outcome: Accepted}
	nums := make([]int, 0, len(final))
	for n := range final {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	for _, n := range nums {
		ev := final[n]
		if ev.At.After(rec.At) {
			rec.At = ev.At
		}
		switch {
		case ev.Outcome == string(Rejected) && rec.Outcome != Rejected:
			rec.Outcome, rec.Code = Rejected, StatusCode(ev.CommandStatus)
			rec.Detail = partDetail(n, count, ev.Status)
		case ev.Outcome == string(Unknown) && rec.Outcome == Accepted:
			rec.Outcome, rec.Detail = Unknown, partDetail(n, count, ev.Status)
		}
	}
	if len(final) < count && rec.Outcome != Rejected {
		rec.Outcome = Unknown
		rec.Detail = fmt.Sprintf("%d of %d part(s) with an outcome", len(final), count)
	}
	if dup {
		rec.Detail = dupDetail
	}
	return rec, repeats, dup
}

func partDetail(n, count int, status string) string {
	if count > 1 {
		return fmt.Sprintf("part %d/%d: %s", n, count, status)
	}
	return status
}
