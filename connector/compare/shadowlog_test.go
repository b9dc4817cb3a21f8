package compare

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/events"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/internal/logging"
)

var at = time.Date(2026, 11, 30, 10, 0, 1, 0, time.UTC)

// shadowLines is what a shadow replica writes for msgs: the comparison log
// (connector/events in shadow mode), and that log as the connector's own
// log carries it in each format (connector/service writes each line as
// msg "shadow" with the line in "event").
func shadowLines(t *testing.T, msgs []events.Message) map[string]string {
	t.Helper()
	var cmp bytes.Buffer
	p := events.New(nil, natscontract.DefaultNames(), true, &cmp)
	for i, err := range p.PublishAll(context.Background(), msgs) {
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	out := map[string]string{"comparison log": cmp.String()}
	for _, format := range []string{"json", "text"} {
		var b bytes.Buffer
		log, err := logging.New(&b, "info", format)
		if err != nil {
			t.Fatal(err)
		}
		log.Info("starting", "settings", "x")
		for _, line := range strings.Split(strings.TrimSuffix(cmp.String(), "\n"), "\n") {
			log.With("replica", "shadow-0").Info("shadow", "event", line)
		}
		log.Warn("bind lost", "operator", "mno-a", "msg", "shadow")
		out["connector log "+format] = b.String()
	}
	var ev bytes.Buffer
	for _, m := range msgs {
		if m.Outcome != nil {
			b, _ := json.Marshal(m.Outcome) // as published on smpp.outcome.{operatorId}
			ev.Write(append(b, '\n'))
		}
	}
	out["outcome events"] = ev.String()
	return out
}

// Every form the connector writes its outcomes in reads back to the same
// messages: the comparison reads the connector's real format.
func TestReadConnectorFormats(t *testing.T) {
	msgs := []events.Message{
		{Outcome: &events.Outcome{MessageID: "m1", OperatorID: "mno-a", PartNumber: 1, PartCount: 1, Outcome: events.OutcomeAccepted, SMSCMessageID: "s1", At: at}},
		{Receipt: &events.Receipt{MessageID: "m1", OperatorID: "mno-a", SMSCMessageID: "s1", Status: dlr.Delivered, Final: true, PartCount: 1, ReceivedAt: at}},
		{Outcome: &events.Outcome{MessageID: "m2", OperatorID: "mno-b", PartNumber: 1, PartCount: 2, Outcome: events.OutcomeAccepted, SMSCMessageID: "s2", At: at}},
		{Outcome: &events.Outcome{MessageID: "m2", OperatorID: "mno-b", PartNumber: 2, PartCount: 2, Outcome: events.OutcomeRejected, CommandStatus: 0x45, Status: "ESME_RSUBMITFAIL", At: at}},
		{Outcome: &events.Outcome{MessageID: "m3", OperatorID: "mno-b", PartNumber: 1, PartCount: 1, Outcome: events.OutcomeUnknown, Status: "no submit_sm_resp within 10s", At: at}},
	}
	want := []Record{
		{MessageID: "m1", Operator: "mno-a", Outcome: Accepted, At: at, Parts: 1},
		{MessageID: "m2", Operator: "mno-b", Outcome: Rejected, Code: "0x00000045", At: at, Parts: 2, Detail: "part 2/2: ESME_RSUBMITFAIL"},
		{MessageID: "m3", Operator: "mno-b", Outcome: Unknown, At: at, Parts: 1, Detail: "no submit_sm_resp within 10s"},
	}
	for name, in := range shadowLines(t, msgs) {
		t.Run(name, func(t *testing.T) {
			l, err := ReadConnector("c.jsonl", strings.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Invalid) > 0 {
				t.Fatalf("invalid: %v\n%s", l.Invalid, in)
			}
			if len(l.Records) != len(want) {
				t.Fatalf("records %+v\n%s", l.Records, in)
			}
			for i, w := range want {
				g := l.Records[i]
				g.Line = 0
				if !g.At.Equal(w.At) {
					t.Errorf("record %d at %v, want %v", i, g.At, w.At)
				}
				g.At = w.At
				if g != w {
					t.Errorf("record %d: %+v, want %+v", i, g, w)
				}
			}
			skipped := map[string]map[string]int{
				"comparison log":     {"receipt event": 1},
				"connector log json": {"receipt event": 1, "log line (not a shadow event)": 2},
				"connector log text": {"receipt event": 1, "log line (not a shadow event)": 2},
				"outcome events":     {},
			}[name]
			if len(l.Skipped) != len(skipped) {
				t.Errorf("skipped %v, want %v", l.Skipped, skipped)
			}
			for k, v := range skipped {
				if l.Skipped[k] != v {
					t.Errorf("skipped %v, want %v", l.Skipped, skipped)
				}
			}
		})
	}
}

// A part's events resolve as the store applies them: accepted beats
// rejected beats unknown, a repeat of rejected replaces the code; a part
// without any outcome leaves the message unknown; a part accepted under
// two SMSC ids was sent twice.
func TestReadConnectorParts(t *testing.T) {
	ev := func(msg string, part, count int, outcome string, cs uint32, smsc string) string {
		b, _ := json.Marshal(events.Outcome{MessageID: msg, OperatorID: "mno-a", PartNumber: part, PartCount: count,
			Outcome: outcome, CommandStatus: cs, SMSCMessageID: smsc, At: at})
		return string(b)
	}
	for _, tc := range []struct {
		name    string
		lines   []string
		outcome Outcome
		code    Code
		repeats int
		dup     bool
	}{
		{"unknown then accepted", []string{ev("m", 1, 1, "unknown", 0, ""), ev("m", 1, 1, "accepted", 0, "s")}, Accepted, "", 1, false},
		{"accepted then a late unknown", []string{ev("m", 1, 1, "accepted", 0, "s"), ev("m", 1, 1, "unknown", 0, "")}, Accepted, "", 1, false},
		{"rejected again with another code", []string{ev("m", 1, 1, "rejected", 0x58, ""), ev("m", 1, 1, "rejected", 0x14, "")}, Rejected, "0x00000014", 1, false},
		{"rejected then accepted", []string{ev("m", 1, 1, "rejected", 0x58, ""), ev("m", 1, 1, "accepted", 0, "s")}, Accepted, "", 1, false},
		{"one part of two", []string{ev("m", 1, 2, "accepted", 0, "s")}, Unknown, "", 0, false},
		{"one part of two rejected", []string{ev("m", 2, 2, "rejected", 0x45, "")}, Rejected, "0x00000045", 0, false},
		{"first rejected part gives the code", []string{ev("m", 3, 3, "rejected", 0x45, ""), ev("m", 2, 3, "rejected", 0x0b, ""), ev("m", 1, 3, "accepted", 0, "s")}, Rejected, "0x0000000B", 0, false},
		{"parts unknown and rejected", []string{ev("m", 1, 2, "unknown", 0, ""), ev("m", 2, 2, "rejected", 8, "")}, Rejected, "0x00000008", 0, false},
		{"relay replay", []string{ev("m", 1, 1, "accepted", 0, "s"), ev("m", 1, 1, "accepted", 0, "s")}, Accepted, "", 1, false},
		{"sent twice", []string{ev("m", 1, 1, "accepted", 0, "s1"), ev("m", 1, 1, "accepted", 0, "s2")}, Accepted, "", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := ReadConnector("c", strings.NewReader(strings.Join(tc.lines, "\n")))
			if err != nil || len(l.Invalid) > 0 || len(l.Records) != 1 {
				t.Fatalf("%v %v %+v", err, l.Invalid, l.Records)
			}
			r := l.Records[0]
			if r.Outcome != tc.outcome || r.Code != tc.code || l.Repeats != tc.repeats || (len(l.Duplicates) == 1) != tc.dup {
				t.Errorf("%s %s (%s), repeats %d, duplicates %v; want %s %s, repeats %d, dup %v",
					r.Outcome, r.Code, r.Detail, l.Repeats, l.Duplicates, tc.outcome, tc.code, tc.repeats, tc.dup)
			}
		})
	}
}

func TestReadConnectorBadInput(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"messageId":"m1","operatorId":"a","outcome":"accepted"`, `c.jsonl:1: bad JSON`},
		{`{"messageId":"m1","operatorId":"a","outcome":"sent"}`, `c.jsonl:1: field "outcome": unknown outcome value "sent" (want accepted, rejected or unknown)`},
		{`{"operatorId":"a","outcome":"accepted"}`, `c.jsonl:1: field "messageId": missing or empty`},
		{`{"messageId":"m1","outcome":"accepted"}`, `c.jsonl:1: field "operatorId": missing or empty`},
		{`{"messageId":"m1","operatorId":"a","outcome":"accepted","partNumber":"1"}`, `c.jsonl:1: field "partNumber": want a int, got a JSON string`},
		{`{"messageId":"m1","operatorId":"a","outcome":"accepted","partNumber":3,"partCount":2}`, `c.jsonl:1: field "partNumber": part 3 of 2`},
		{`{"messageId":"m1","operatorId":"a","outcome":"accepted","at":"yesterday"}`, `c.jsonl:1: bad JSON: parsing time`},
		{`{"kind":"status","at":"2026-11-30T10:00:01Z","event":{}}`, `c.jsonl:1: field "kind": unknown kind "status"`},
		{`{"kind":"outcome"}`, `c.jsonl:1: field "event": missing`},
		{`{"time":"x","level":"INFO","msg":"shadow","event":{"kind":"outcome"}}`, `c.jsonl:1: field "event": want the comparison log line as a string`},
		{`time=x level=INFO msg=shadow event={`, `c.jsonl:1: field "event": want the comparison log line as a quoted string`},
		{`accepted m1`, `c.jsonl:1: not JSON, nor a line of the connector's log`},
		{`{"messageId":"m1","operatorId":"a","outcome":"accepted"}` + "\n" + `null`, `c.jsonl:2: want a JSON object, got null`},
	} {
		l, err := ReadConnector("c.jsonl", strings.NewReader(tc.in))
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Invalid) != 1 || !strings.Contains(l.Invalid[0].Error(), tc.want) {
			t.Errorf("%s: invalid %v, want %q", tc.in, l.Invalid, tc.want)
		}
	}
}
