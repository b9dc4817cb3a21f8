package compare

import (
	"strings"
	"testing"
	"time"
)

func TestReadLegacy(t *testing.T) {
	def := DefaultMapping()
	if err := def.validate(); err != nil {
		t.Fatal(err)
	}
	ts := def
	ts.Columns.Timestamp, ts.TimestampLayout = "ts", "unixms"
	semi := def
	semi.Delimiter = ";"
	eq := def
	eq.ErrorEquivalence = map[string]string{"INVALID_MSISDN": "ESME_RINVDSTADR", "0x45": "8"}
	if err := eq.validate(); err != nil {
		t.Fatal(err)
	}
	const header = "message_id,operator,outcome,error_code\n"
	for _, tc := range []struct {
		name    string
		m       Mapping
		in      string
		want    []Record // MessageID, Operator, Outcome, Code, Line (At when set)
		invalid []string // each error's text, in order (substring)
		skipped int
		fatal   string
	}{
		{name: "csv", m: def, in: header + "m1,mno-a,accepted,\nm2,mno-b,REJECTED,11\nm3,mno-a,Timeout,\n",
			want: []Record{{MessageID: "m1", Operator: "mno-a", Outcome: Accepted, Line: 2},
				{MessageID: "m2", Operator: "mno-b", Outcome: Rejected, Code: "0x0000000B", Line: 3},
				{MessageID: "m3", Operator: "mno-a", Outcome: Unknown, Line: 4}}},
		{name: "csv columns in any order, case and spaces in the header, BOM, CRLF", m: def,
			in:   "\ufeffError_Code , OUTCOME,extra,operator,message_id\r\n0xb,rejected,x,mno-a,m1\r\n",
			want: []Record{{MessageID: "m1", Operator: "mno-a", Outcome: Rejected, Code: "0x0000000B", Line: 2}}},
		{name: "csv quoted field over two lines", m: def, in: header + "m1,\"mno\na\",ok,\nm2,mno-a,ok,\n",
			want: []Record{{MessageID: "m1", Operator: "mno\na", Outcome: Accepted, Line: 2},
				{MessageID: "m2", Operator: "mno-a", Outcome: Accepted, Line: 4}}},
		{name: "csv blank lines are counted", m: def, in: header + "\nm1,mno-a,ok,\n   \n\n",
			want:    []Record{{MessageID: "m1", Operator: "mno-a", Outcome: Accepted, Line: 3}},
			skipped: 3},
		{name: "csv delimiter", m: semi, in: "message_id;operator;outcome;error_code\nm1;mno-a;ok;\n",
			want: []Record{{MessageID: "m1", Operator: "mno-a", Outcome: Accepted, Line: 2}}},
		{name: "csv timestamp", m: ts, in: "message_id,operator,outcome,error_code,ts\nm1,mno-a,ok,,1764496801120\n",
			want: []Record{{MessageID: "m1", Operator: "mno-a", Outcome: Accepted, Line: 2, At: time.UnixMilli(1764496801120).UTC()}}},
		{name: "error equivalence", m: eq, in: header + "m1,a,rejected,invalid_msisdn\nm2,a,rejected,69\nm3,a,rejected,ESME_RX_T_APPN\n",
			want: []Record{{MessageID: "m1", Operator: "a", Outcome: Rejected, Code: "0x0000000B", Line: 2},
				{MessageID: "m2", Operator: "a", Outcome: Rejected, Code: "0x00000008", Line: 3},
				{MessageID: "m3", Operator: "a", Outcome: Rejected, Code: "0x00000064", Line: 4}}},
		{name: "csv bad lines are named, the good ones read", m: def,
			in:   header + "m1,mno-a,maybe,\nm2,mno-a\n,mno-a,ok,\nm4,mno-a,rejected,\nm5,\"mno-a,ok,\nm6,mno-a,ok,\n",
			want: []Record{},
			invalid: []string{`legacy.csv:2: field "outcome": unknown outcome value "maybe" (want accepted accepted/ok/success`,
				`legacy.csv:3: field "outcome": missing: the row has 2 field(s), the header 4`,
				`legacy.csv:4: field "message_id": empty message id`,
				`legacy.csv:5: field "error_code": empty error code on a rejected message`,
				`legacy.csv:6: bad CSV: extraneous or missing " in quoted-field`}},
		{name: "csv bad timestamp", m: ts, in: "message_id,operator,outcome,error_code,ts\nm1,mno-a,ok,,yesterday\n",
			want: []Record{}, invalid: []string{`legacy.csv:2: field "ts": bad timestamp: "yesterday" is not an integer (unixms)`}},
		{name: "csv missing column", m: def, in: "message_id,operator,result,error_code\nm1,mno-a,ok,\n",
			fatal: `legacy.csv:1: field "outcome": no such column in the header (columns: message_id, operator, result, error_code)`},
		{name: "csv missing timestamp column", m: ts, in: header,
			fatal: `legacy.csv:1: field "ts": no such column`},
		{name: "empty file", m: def, in: "", fatal: "legacy.csv:1: empty file: want a header line"},
		{name: "jsonl", m: def, in: `{"message_id":"m1","operator":"mno-a","outcome":"accepted"}` + "\n\n" +
			`{"message_id":42,"operator":"mno-b","outcome":"rejected","error_code":88,"other":[1]}` + "\n",
			want: []Record{{MessageID: "m1", Operator: "mno-a", Outcome: Accepted, Line: 1},
				{MessageID: "42", Operator: "mno-b", Outcome: Rejected, Code: "0x00000058", Line: 3}},
			skipped: 1},
		{name: "jsonl bad lines", m: def,
			in: `{"message_id":"m1","operator":"mno-a","outcome":"accepted"` + "\n" +
				`{"message_id":"m2","outcome":"accepted"}` + "\n" +
				`{"message_id":"m3","operator":"mno-a","outcome":"sent"}` + "\n" +
				`{"message_id":["m4"],"operator":"mno-a","outcome":"ok"}` + "\n" +
				`[1,2]` + "\n",
			want: []Record{},
			invalid: []string{`legacy.csv:1: bad JSON`,
				`legacy.csv:2: field "operator": missing`,
				`legacy.csv:3: field "outcome": unknown outcome value "sent"`,
				`legacy.csv:4: field "message_id": want a string or a number, got ["m4"]`,
				`legacy.csv:5: want a JSON object, got a JSON array`}},
		{name: "jsonl line too long", m: def, in: `{"message_id":"` + strings.Repeat("x", maxLine) + `"}`,
			fatal: "legacy.csv:1: line longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := ReadLegacy("legacy.csv", strings.NewReader(tc.in), tc.m)
			if tc.fatal != "" {
				if err == nil || !strings.Contains(err.Error(), tc.fatal) {
					t.Fatalf("error %v, want %q", err, tc.fatal)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Records) != len(tc.want) {
				t.Fatalf("records %+v, want %+v (invalid %v)", l.Records, tc.want, l.Invalid)
			}
			for i, w := range tc.want {
				if g := l.Records[i]; g != w {
					t.Errorf("record %d: %+v, want %+v", i, g, w)
				}
			}
			if len(l.Invalid) != len(tc.invalid) {
				t.Fatalf("invalid %v, want %q", l.Invalid, tc.invalid)
			}
			for i, w := range tc.invalid {
				if !strings.Contains(l.Invalid[i].Error(), w) {
					t.Errorf("invalid %d: %v, want %q", i, l.Invalid[i], w)
				}
			}
			if l.SkippedTotal() != tc.skipped {
				t.Errorf("skipped %v, want %d", l.Skipped, tc.skipped)
			}
		})
	}
}

// A message id on two lines of the legacy log is a duplicate.
func TestReadLegacyDuplicates(t *testing.T) {
	l, err := ReadLegacy("l", strings.NewReader("message_id,operator,outcome,error_code\nm1,a,ok,\nm2,a,ok,\nm1,a,rejected,8\n"), DefaultMapping())
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Duplicates) != 1 || l.Duplicates[0] != "m1" || len(l.Records) != 3 {
		t.Fatalf("duplicates %v records %d", l.Duplicates, len(l.Records))
	}
}
