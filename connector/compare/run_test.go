package compare

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// logs writes a legacy CSV and a connector JSONL of n messages, of which
// the connector disagrees on the first `differ` (a rejection where the
// legacy dispatcher was accepted).
func logs(t *testing.T, n, differ int) (legacy, connector string) {
	t.Helper()
	var l, c strings.Builder
	l.WriteString("message_id,operator,outcome,error_code\n")
	for i := range n {
		id, op := fmt.Sprintf("msg-%05d", i), []string{"mno-a", "mno-b"}[i%2]
		fmt.Fprintf(&l, "%s,%s,accepted,\n", id, op)
		outcome := `"outcome":"accepted","smscMessageId":"` + id + `"`
		if i < differ {
			outcome = `"outcome":"rejected","commandStatus":69,"status":"ESME_RSUBMITFAIL"`
		}
		fmt.Fprintf(&c, `{"messageId":%q,"operatorId":%q,"partNumber":1,"partCount":1,%s,"at":"2026-11-30T10:00:01Z"}`+"\n", id, op, outcome)
	}
	dir := t.TempDir()
	legacy, connector = filepath.Join(dir, "legacy.csv"), filepath.Join(dir, "connector.jsonl")
	os.WriteFile(legacy, []byte(l.String()), 0o600)
	os.WriteFile(connector, []byte(c.String()), 0o600)
	return legacy, connector
}

// The "Done when": 1% of messages disagreeing fails the Phase 2
// criterion (99.5%), identical logs pass, and the report lists the ids.
func TestThreshold(t *testing.T) {
	for _, tc := range []struct {
		n, differ int
		pass      bool
	}{
		{1000, 0, true},
		{1000, 5, true}, // 99.5% exactly
		{1000, 6, false},
		{1000, 10, false}, // 1%
	} {
		legacy, connector := logs(t, tc.n, tc.differ)
		var out bytes.Buffer
		err := Run(Options{Legacy: legacy, Connector: connector, Format: "text", MinMatch: DefaultMinMatch}, &out)
		var te *ThresholdError
		if tc.pass != (err == nil) || !tc.pass && !errors.As(err, &te) {
			t.Fatalf("%d of %d differ: %v\n%s", tc.differ, tc.n, err, out.String())
		}
		rate := fmt.Sprintf("%.2f%%", 100*float64(tc.n-tc.differ)/float64(tc.n))
		if !tc.pass && (!strings.Contains(err.Error(), "match rate "+rate) || !strings.Contains(err.Error(), "below -min-match 99.50%")) {
			t.Errorf("error %q should name the rate %s and the threshold", err, rate)
		}
		for i := range tc.differ {
			if id := fmt.Sprintf("msg-%05d", i); !strings.Contains(out.String(), id) {
				t.Errorf("report does not list %s\n%s", id, out.String())
			}
		}
		if !strings.Contains(out.String(), fmt.Sprintf("matched %d of %d message(s): %s", tc.n-tc.differ, tc.n, rate)) {
			t.Errorf("report:\n%s", out.String())
		}
	}
}

// The text report lists a bounded number of ids, the JSON report all.
func TestReportLists(t *testing.T) {
	legacy, connector := logs(t, 1000, 120)
	var text, js bytes.Buffer
	if err := Run(Options{Legacy: legacy, Connector: connector, Format: "text", MinMatch: 0.5}, &text); err != nil {
		t.Fatal(err)
	}
	if strings.Count(text.String(), "accepted_legacy_only  ") != TextListLimit+1 || !strings.Contains(text.String(), "... and 70 more") {
		t.Errorf("text list not bounded:\n%s", text.String())
	}
	if err := Run(Options{Legacy: legacy, Connector: connector, Format: "json", MinMatch: 0.5}, &js); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Total         int
		Matched       int
		MatchRate     float64
		Pass          bool
		Classes       map[string]int
		Operators     map[string]struct{ Total, Matched int }
		Disagreements []struct{ MessageID, Class string }
	}
	if err := json.Unmarshal(js.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Total != 1000 || r.Matched != 880 || r.MatchRate != 0.88 || !r.Pass || len(r.Disagreements) != 120 ||
		r.Classes["accepted_legacy_only"] != 120 || r.Operators["mno-a"].Total != 500 || r.Operators["mno-b"].Matched != 440 {
		t.Errorf("%+v", r)
	}
}

// Invalid lines fail the comparison, naming file, line and field, unless
// -allow-invalid: then they are left out and reported.
func TestRunInvalid(t *testing.T) {
	legacy, connector := logs(t, 10, 0)
	f, _ := os.OpenFile(legacy, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("msg-bad,mno-a,sent,\n")
	f.Close()
	var out bytes.Buffer
	o := Options{Legacy: legacy, Connector: connector, Format: "text", MinMatch: DefaultMinMatch}
	err := Run(o, &out)
	if err == nil || !strings.Contains(err.Error(), "1 invalid line(s), nothing compared") ||
		!strings.Contains(err.Error(), legacy+`:12: field "outcome": unknown outcome value "sent"`) {
		t.Fatalf("%v", err)
	}
	o.AllowInvalid = true
	out.Reset()
	if err := Run(o, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "1 INVALID line(s)") || !strings.Contains(out.String(), `:12: field "outcome"`) {
		t.Errorf("invalid line not reported:\n%s", out.String())
	}
}

func TestRunUsage(t *testing.T) {
	legacy, connector := logs(t, 1, 0)
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Connector: connector, Format: "text"}, "no legacy log: set -legacy FILE"},
		{Options{Legacy: legacy, Format: "text"}, "no connector log: set -connector FILE"},
		{Options{Legacy: legacy, Connector: connector, Format: "html"}, `-format "html": want text or json`},
		{Options{Legacy: legacy, Connector: connector, Format: "text", MinMatch: 99.5}, "-min-match 99.5: want a share between 0 and 1"},
		{Options{Legacy: legacy, Connector: "nope.jsonl", Format: "text"}, "connector log: open nope.jsonl"},
		{Options{Legacy: legacy, Connector: connector, Format: "text", Mapping: "nope.yaml"}, "mapping: open nope.yaml"},
	} {
		if err := Run(tc.o, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
		}
	}
	empty := filepath.Join(t.TempDir(), "empty.jsonl")
	os.WriteFile(empty, nil, 0o600)
	os.WriteFile(legacy, []byte("message_id,operator,outcome,error_code\n"), 0o600)
	if err := Run(Options{Legacy: legacy, Connector: empty, Format: "text"}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "no messages in either log") {
		t.Errorf("empty logs: %v", err)
	}
}

func TestLoadMapping(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ body, want string }{
		{`{"columns": {"messageId": "id"}, "format": "jsonl"}`, ""}, // JSON is YAML too
		{"columns:\n  messageid: id\n", "field messageid not found"},
		{"format: xml\n", `format "xml": want auto, csv or jsonl`},
		{"delimiter: ';;'\n", "delimiter"},
		{"columns: {outcome: ''}\n", "columns.outcome: required"},
		{"outcomes: {accepted: [ok], rejected: [OK]}\n", `outcomes: "OK" is both`},
		{"outcomes: {accepted: [ok], rejected: []}\n", "at least one accepted and one rejected"},
		{"timestampLayout: iso\n", `timestampLayout "iso"`},
		{"errorEquivalence: {X: ''}\n", "errorEquivalence"},
	} {
		p := filepath.Join(dir, "m.yaml")
		os.WriteFile(p, []byte(tc.body), 0o600)
		m, err := LoadMapping(p)
		if tc.want == "" {
			if err != nil || m.Columns.MessageID != "id" || m.Columns.Outcome != "outcome" || m.Format != "jsonl" {
				t.Errorf("%s: %v %+v", tc.body, err, m)
			}
		} else if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want %q and the file name", tc.body, err, tc.want)
		}
	}
}

func TestParseCode(t *testing.T) {
	for in, want := range map[string]Code{
		"11": "0x0000000B", "0xb": "0x0000000B", "0X0000000B": "0x0000000B", "esme_rinvdstadr": "0x0000000B",
		" 88 ": "0x00000058", "ESME_RTHROTTLED": "0x00000058", "": "", "invalid_msisdn": "INVALID_MSISDN",
		"0x1ffffffff": "0X1FFFFFFFF", "-1": "-1",
	} {
		if got := ParseCode(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
	if s := StatusCode(0x58).String(); s != "ESME_RTHROTTLED (0x00000058)" {
		t.Error(s)
	}
}
