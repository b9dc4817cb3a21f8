package scenario

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseExample(t *testing.T) {
	b, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Name != "acme-throttle" || sc.Seed != 42 {
		t.Fatalf("name/seed: %q %d", sc.Name, sc.Seed)
	}
	var got []string
	for _, st := range sc.Steps {
		got = append(got, st.String())
	}
	want := []string{
		"0s reset",
		`5s mo on "acme" from 447700900001 to ACME`,
		`10s add throttle "acme-tps"`,
		`10s add latency "latency"`,
		`40s remove "acme-tps"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("steps in order:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	add := sc.Steps[2]
	if add.Index != 1 || add.Line != 7 {
		t.Errorf("index/line of the throttle step: %d/%d, want 1/7", add.Index, add.Line)
	}
	if string(add.Add.Params) != `{"tps":50,"window":"sliding","status":"ESME_RTHROTTLED"}` {
		t.Errorf("params: %s", add.Add.Params)
	}
	if m := sc.Steps[1].MO; m.Account != "shop" || m.Encoding != "ucs2" || m.Segmentation != "udh16" || m.Text != "STOP" {
		t.Errorf("mo: %+v", m)
	}
}

func TestParseJSON(t *testing.T) {
	in := `{
	"name": "j",
	"steps": [
		{"at": 1.5, "add": {"type": "error", "probability": 0.5, "match": {"command": "submit_sm"}, "params": {"status": "ESME_RSYSERR"}}},
		{"at": "2s", "mo": {"operator": "op", "source": "1", "destination": "2", "text": "\u00e9\ud83d\ude00", "encoding": "ucs2"}}
	]
}`
	sc, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Steps[0].At.D() != 1500*time.Millisecond || sc.Steps[0].Add.Probability != 0.5 {
		t.Errorf("step 0: %+v", sc.Steps[0])
	}
	if sc.Steps[1].MO.Text != "é😀" {
		t.Errorf("text %q", sc.Steps[1].MO.Text)
	}
}

func TestParseAnchorsAndMerge(t *testing.T) {
	in := `
base: &base {type: error, params: {status: ESME_RSYSERR}}
steps: []
`
	if _, err := Parse([]byte(in)); err == nil || !strings.Contains(err.Error(), `line 2: base: unknown field`) {
		t.Fatalf("unknown top-level key: %v", err)
	}
	in = `
steps:
  - at: 0s
    add: &e {name: e1, type: error, params: {status: ESME_RSYSERR}}
  - at: 1s
    add: {<<: *e, name: e2}
`
	sc, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Steps[1].Add.Name != "e2" || sc.Steps[1].Add.Type != "error" || string(sc.Steps[1].Add.Params) != `{"status":"ESME_RSYSERR"}` {
		t.Fatalf("merged spec: %+v %s", sc.Steps[1].Add, sc.Steps[1].Add.Params)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "empty scenario"},
		{"not a mapping", "- a\n- b\n", "want a mapping with name, seed and steps, got a list"},
		{"syntax", "steps: [\n", "invalid YAML"},
		{"two documents", "steps: []\n---\nsteps: []\n", "line 2: only one YAML document"},
		{"no steps", "name: x\n", "steps: at least one step is required"},
		{"unknown top far", "name: x\nversion: 2\n", "line 2: version: unknown field (want name, seed, steps)"},
		{"unknown top", "name: x\nstpes: []\n", `line 2: stpes: unknown field (did you mean "steps"?)`},
		{"bad seed", "seed: -1\nsteps: []\n", "line 1: seed: want a non-negative integer"},
		{"unknown step field", "steps:\n  - at: 1s\n    ad: {type: error}\n", `line 3: steps[0].ad: unknown field (did you mean "add"?)`},
		{"missing at", "steps:\n  - reset: true\n", "line 2: steps[0].at: required"},
		{"bad at", "steps:\n  - at: soon\n    reset: true\n", `line 2: steps[0].at: want a duration like "10s" or "1m30s", got "soon"`},
		{"negative at", "steps:\n  - at: -5s\n    reset: true\n", "line 2: steps[0].at: must not be negative"},
		{"two actions", "steps:\n  - at: 1s\n    reset: true\n    remove: x\n", "line 2: steps[0]: want exactly one of add, remove, mo or reset, got remove and reset"},
		{"no action", "steps:\n  - at: 1s\n", "line 2: steps[0]: want one of add, remove, mo or reset"},
		{"reset false", "steps:\n  - at: 1s\n    reset: false\n", "line 3: steps[0].reset: want true"},
		{"empty remove", "steps:\n  - at: 1s\n    remove: \"\"\n", "steps[0].remove: want the name of a fault"},
		{"duplicate key", "steps:\n  - at: 1s\n    at: 2s\n    reset: true\n", "line 3: steps[0].at: duplicate key (first on line 2)"},
		{"unknown fault type", "steps:\n  - at: 0s\n    reset: true\n  - at: 1s\n    add:\n      type: trhottle\n", "line 6: steps[1].add.type: unknown fault type \"trhottle\""},
		{"missing type", "steps:\n  - at: 1s\n    add: {name: x}\n", "line 3: steps[0].add.type: required"},
		{"probability", "steps:\n  - at: 1s\n    add: {type: error, probability: 2, params: {status: 8}}\n", "steps[0].add.probability: 2 is outside [0,1]"},
		{"bad command", "steps:\n  - at: 1s\n    add: {type: error, match: {command: submit}, params: {status: 8}}\n", "steps[0].add.match.command:"},
		{"unknown match field", "steps:\n  - at: 1s\n    add: {type: error, match: {dest: '44'}}\n", "steps[0].add.match.dest: unknown field"},
		{"param value", "steps:\n  - at: 0s\n    reset: true\n  - at: 0s\n    reset: true\n  - at: 10s\n    add:\n      type: throttle\n      params:\n        tps: 0\n", "line 10: steps[2].add.params.tps: must be > 0, got 0"},
		{"param unknown", "steps:\n  - at: 1s\n    add:\n      type: throttle\n      params:\n        tps: 5\n        tpss: 6\n", "line 7: steps[0].add.params.tpss: unknown field"},
		{"param type", "steps:\n  - at: 1s\n    add:\n      type: throttle\n      params:\n        tps: lots\n", "line 6: steps[0].add.params.tps: want int, got string"},
		{"nested param", "steps:\n  - at: 1s\n    add:\n      type: latency\n      params:\n        distribution: {kind: normal, stddev: 1s}\n", "line 6: steps[0].add.params.distribution"},
		{"param inf", "steps:\n  - at: 1s\n    add: {type: mo, params: {rate: .inf}}\n", "steps[0].add.params.rate: want a finite number"},
		{"add twice", "steps:\n  - at: 1s\n    add: {type: receipt_drop}\n  - at: 2s\n    add: {type: receipt_drop}\n", `line 5: steps[1].add.name: fault "receipt_drop" is still active at 2s (added by steps[0] at 1s)`},
		{"mo operator", "steps:\n  - at: 1s\n    mo: {source: '1', destination: '2'}\n", "steps[0].mo.operator: required"},
		{"mo source", "steps:\n  - at: 1s\n    mo: {operator: op, destination: '2'}\n", "steps[0].mo.source: required"},
		{"mo encoding", "steps:\n  - at: 1s\n    mo:\n      operator: op\n      source: '1'\n      destination: '2'\n      encoding: utf8\n", "line 7: steps[0].mo.encoding: want gsm7, ucs2, latin1 or auto"},
		{"mo text", "steps:\n  - at: 1s\n    mo: {operator: op, source: '1', destination: '2', text: 'snow ☃'}\n", "steps[0].mo.text: gsm7: cannot encode"},
		{"mo unknown", "steps:\n  - at: 1s\n    mo: {operator: op, from: '1'}\n", "steps[0].mo.from: unknown field"},
		{"steps not list", "steps: {at: 1s}\n", "line 1: steps: want a list of steps, got a mapping"},
		{"spec not mapping", "steps:\n  - at: 1s\n    add: throttle\n", `line 3: steps[0].add: want a mapping, got the string "throttle"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n  %v\nwant it to contain:\n  %s", err, tc.want)
			}
		})
	}
}

func TestAddAgainAfterRemoveOrReset(t *testing.T) {
	in := `steps:
  - {at: 1s, add: {type: receipt_drop}}
  - {at: 2s, remove: receipt_drop}
  - {at: 3s, add: {type: receipt_drop}}
  - {at: 4s, reset: true}
  - {at: 5s, add: {type: receipt_drop}}
`
	if _, err := Parse([]byte(in)); err != nil {
		t.Fatal(err)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	b, _ := os.ReadFile("testdata/example.yaml")
	sc, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(out)
	if err != nil {
		t.Fatalf("re-parse %s: %v", out, err)
	}
	out2, _ := json.Marshal(again)
	if string(out) != string(out2) {
		t.Fatalf("round trip differs:\n%s\n%s", out, out2)
	}
}

func TestSplitField(t *testing.T) {
	for _, tc := range []struct{ in, field, rest string }{
		{"params.tps: must be > 0, got 0", "params.tps", "must be > 0, got 0"},
		{`params: json: unknown field "x"`, "params.x", "unknown field"},
		{"type: required (one of a, b)", "type", "required (one of a, b)"},
		{`name "x": fault already exists`, "", `name "x": fault already exists`},
		{"params.weights[2]: bad", "params.weights[2]", "bad"},
	} {
		f, r := SplitField(tc.in)
		if f != tc.field || r != tc.rest {
			t.Errorf("SplitField(%q) = %q, %q; want %q, %q", tc.in, f, r, tc.field, tc.rest)
		}
	}
}

// The file smscsim replay writes is a plain scenario: its scripts are fault
// params, checked like any other, with errors that name the field and line.
func TestParseReplayed(t *testing.T) {
	b, err := os.ReadFile("testdata/replayed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Steps) != 5 || sc.Steps[0].Add.Type != "response_script" || sc.Steps[2].Add.Type != "receipt_script" {
		t.Fatalf("steps: %+v", sc.Steps)
	}
	bad := strings.Replace(string(b), "stat: DELIVRD, early", "stat: GONE, early", 1)
	_, err = Parse([]byte(bad))
	var e *Error
	if !errors.As(err, &e) || e.Field != "steps[2].add.params.receipts[1].stat" || e.Line != 30 {
		t.Fatalf("bad stat: %#v", err)
	}
	bad = strings.Replace(string(b), "{status: ESME_RINVPASWD}", "{status: ESME_NOPE}", 1)
	if _, err := Parse([]byte(bad)); err == nil || !strings.Contains(err.Error(), "responses[0].status") {
		t.Fatalf("bad status: %v", err)
	}
}
