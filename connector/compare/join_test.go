package compare

import (
	"strings"
	"testing"
)

func rec(id, op string, o Outcome, code Code) Record {
	return Record{MessageID: id, Operator: op, Outcome: o, Code: code}
}

func TestClassify(t *testing.T) {
	b, e := StatusCode(0x0b), StatusCode(8)
	for _, tc := range []struct {
		l, c Record
		want Class
	}{
		{rec("m", "a", Accepted, ""), rec("m", "a", Accepted, ""), Matched},
		{rec("m", "a", Rejected, b), rec("m", "a", Rejected, b), Matched},
		{rec("m", "a", Unknown, ""), rec("m", "a", Unknown, ""), Matched},
		{rec("m", "a", Rejected, b), rec("m", "a", Rejected, e), DifferentError},
		{rec("m", "a", Accepted, ""), rec("m", "a", Rejected, e), AcceptedLegacyOnly},
		{rec("m", "a", Accepted, ""), rec("m", "a", Unknown, ""), AcceptedLegacyOnly},
		{rec("m", "a", Rejected, b), rec("m", "a", Accepted, ""), AcceptedConnectorOnly},
		{rec("m", "a", Unknown, ""), rec("m", "a", Accepted, ""), AcceptedConnectorOnly},
		{rec("m", "a", Rejected, b), rec("m", "a", Unknown, ""), DifferentOutcome},
		{rec("m", "a", Unknown, ""), rec("m", "a", Rejected, b), DifferentOutcome},
	} {
		if got := classify(tc.l, tc.c); got != tc.want {
			t.Errorf("legacy %s %s, connector %s %s: %s, want %s", tc.l.Outcome, tc.l.Code, tc.c.Outcome, tc.c.Code, got, tc.want)
		}
	}
}

// Every message of either log is in exactly one class, per operator too;
// missing comes before duplicate, duplicate before the outcomes.
func TestJoin(t *testing.T) {
	legacy := &Log{Records: []Record{
		rec("m1", "mno-a", Accepted, ""),
		rec("m2", "mno-a", Accepted, ""),
		rec("m3", "mno-b", Rejected, StatusCode(8)),
		rec("m4", "mno-b", Accepted, ""),
		rec("m5", "mno-b", Accepted, ""), rec("m5", "mno-b", Accepted, ""),
		rec("m6", "", Accepted, ""), // no operator in the legacy log: the connector's
		rec("m8", "mno-a", Accepted, ""), rec("m8", "mno-a", Accepted, ""),
	}}
	legacy.findDuplicates()
	connector := &Log{Records: []Record{
		rec("m1", "mno-a", Accepted, ""),
		rec("m2", "mno-a", Rejected, StatusCode(0x45)),
		rec("m3", "mno-b", Rejected, StatusCode(0x45)),
		rec("m5", "mno-b", Accepted, ""),
		rec("m6", "mno-c", Accepted, ""),
		rec("m7", "mno-c", Accepted, ""),
	}}
	r := Join(legacy, connector)
	if r.Total != 8 || r.Matched != 2 || r.MatchRate != 0.25 {
		t.Fatalf("total %d matched %d rate %v", r.Total, r.Matched, r.MatchRate)
	}
	want := []struct {
		id    string
		class Class
	}{{"m2", AcceptedLegacyOnly}, {"m3", DifferentError}, {"m7", MissingLegacy}, {"m4", MissingConnector},
		{"m8", MissingConnector}, {"m5", Duplicate}}
	if len(r.Disagreements) != len(want) {
		t.Fatalf("%+v", r.Disagreements)
	}
	for i, w := range want {
		if d := r.Disagreements[i]; d.MessageID != w.id || d.Class != w.class {
			t.Errorf("disagreement %d: %s %s, want %s %s", i, d.MessageID, d.Class, w.id, w.class)
		}
	}
	if d := r.Disagreements[2]; d.Legacy != nil || d.Connector == nil || d.Operator != "mno-c" {
		t.Errorf("missing_legacy: %+v", d)
	}
	ops := map[string][2]int{"mno-a": {3, 1}, "mno-b": {3, 0}, "mno-c": {2, 1}}
	for op, w := range ops {
		f := r.Operators[op]
		if f == nil || f.Total != w[0] || f.Matched != w[1] {
			t.Errorf("%s: %+v, want total %d matched %d", op, f, w[0], w[1])
		}
	}
	sum := r.Matched
	for _, n := range r.Classes {
		sum += n
	}
	if sum != r.Total || len(r.Operators) != 3 {
		t.Errorf("classes %v do not add up to %d", r.Classes, r.Total)
	}
}

// A duplicate names the other lines of its message id; a connector part
// accepted twice names both SMSC ids.
func TestDuplicateDetail(t *testing.T) {
	legacy := &Log{Records: []Record{{MessageID: "m", Operator: "a", Outcome: Accepted, Line: 2},
		{MessageID: "m", Operator: "a", Outcome: Accepted, Line: 5}, {MessageID: "m", Operator: "a", Outcome: Accepted, Line: 9}}}
	legacy.findDuplicates()
	connector, err := ReadConnector("c", strings.NewReader(`{"messageId":"m","operatorId":"a","outcome":"accepted","smscMessageId":"s1"}`+"\n"+
		`{"messageId":"m","operatorId":"a","outcome":"accepted","smscMessageId":"s2"}`))
	if err != nil {
		t.Fatal(err)
	}
	r := Join(legacy, connector)
	if len(r.Disagreements) != 1 || r.Disagreements[0].Class != Duplicate ||
		r.Disagreements[0].Legacy.Detail != "also at line(s) 5, 9" ||
		r.Disagreements[0].Connector.Detail != `part 1 accepted twice: SMSC ids "s1", "s2"` {
		t.Fatalf("%+v %+v", r.Disagreements[0].Legacy, r.Disagreements[0].Connector)
	}
}
