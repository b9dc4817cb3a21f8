package framework

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"
)

func TestParseGatesRejectsBadThresholds(t *testing.T) {
	for name, doc := range map[string]string{
		"no threshold":     "groups: {g: {criteria: {c: {unit: x}}}}",
		"two thresholds":   "groups: {g: {criteria: {c: {min: 1, max: 2}}}}",
		"negative within":  "groups: {g: {criteria: {c: {within: -1}}}}",
		"unknown key":      "groups: {g: {criteria: {c: {minimum: 1}}}}",
		"duplicate names":  "groups: {g: {criteria: {c: {min: 1}}}, h: {criteria: {c: {max: 1}}}}",
		"not even a gates": "- 1\n- 2\n",
	} {
		if _, err := ParseGates([]byte(doc)); err == nil {
			t.Errorf("%s: no error for %q", name, doc)
		}
	}
}

func TestProjectGatesFile(t *testing.T) {
	path, err := GatesFile()
	if err != nil {
		t.Fatal(err)
	}
	g, err := LoadGates(path)
	if err != nil {
		t.Fatal(err)
	}
	// The seed figures of DESIGN.md section 5.
	for name, want := range map[string]string{
		"submit_success_rate": ">= 99.5 % of baseline",
		"tps_breaches":        "<= 0 breaches",
		"receipt_rate_delta":  "within ±0.5 pp vs baseline",
		"failover":            "== true",
		// The plan's Phase 2 exit criterion, message by message
		// (connector/compare's -min-match default).
		GateLegacyMatchRate:     ">= 99.5 % of messages",
		GateLegacyDisagreements: "<= 0 messages",
	} {
		_, th, ok := g.Lookup(name)
		if !ok {
			t.Errorf("%s missing from %s", name, path)
			continue
		}
		if th.String() != want {
			t.Errorf("%s: threshold %q, want %q", name, th.String(), want)
		}
	}
}

func TestThresholdCheck(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	yes := true
	cases := []struct {
		th   Threshold
		v    float64
		want bool
	}{
		{Threshold{Min: f(99.5)}, 99.5, true},
		{Threshold{Min: f(99.5)}, 99.49, false},
		{Threshold{Max: f(0)}, 0, true},
		{Threshold{Max: f(0)}, 1, false},
		{Threshold{Within: f(0.5)}, -0.5, true},
		{Threshold{Within: f(0.5)}, 0.51, false},
		{Threshold{Within: f(0.5)}, -0.51, false},
		{Threshold{Min: f(1)}, nan(), false},
		{Threshold{Expect: &yes}, 1, false}, // a condition is not a number
	}
	for _, c := range cases {
		if got := c.th.Check(c.v); got != c.want {
			t.Errorf("%s with %v: %v, want %v", c.th, c.v, got, c.want)
		}
	}
	if !(Threshold{Expect: &yes}).CheckCondition(true) || (Threshold{Expect: &yes}).CheckCondition(false) {
		t.Error("expect: true must pass true and fail false")
	}
}

func nan() float64 { var z float64; return z / z }

func criterionReport(t *testing.T, viaJSON bool, specs []types.SpecState, cs ...Criterion) types.Report {
	t.Helper()
	r := types.Report{SuiteSucceeded: true, RunTime: time.Second}
	r.PreRunStats.TotalSpecs = len(specs)
	r.PreRunStats.SpecsThatWillRun = len(specs)
	for i, st := range specs {
		sr := types.SpecReport{LeafNodeType: types.NodeTypeIt, State: st, LeafNodeText: "spec"}
		if i < len(cs) {
			e := types.ReportEntry{Name: criterionEntry, Value: types.WrapEntryValue(cs[i])}
			if viaJSON { // as it arrives from another parallel process
				b, err := json.Marshal(e)
				if err != nil {
					t.Fatal(err)
				}
				e = types.ReportEntry{}
				if err := json.Unmarshal(b, &e); err != nil {
					t.Fatal(err)
				}
			}
			sr.ReportEntries = append(sr.ReportEntries, e)
		}
		r.SpecReports = append(r.SpecReports, sr)
	}
	return r
}

func TestBuildSummary(t *testing.T) {
	g, err := ParseGates([]byte(`groups: {p: {criteria: {a: {min: 1}, b: {expect: true}, c: {max: 0}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	v := 2.0
	a := Criterion{Name: "a", Threshold: ">= 1", Measured: "2", Value: &v, Pass: true}
	b := Criterion{Name: "b", Threshold: "== true", Measured: "false", Pass: false}
	passed := types.SpecStatePassed

	for _, viaJSON := range []bool{false, true} {
		// Complete run, c never measured, b failed.
		s, err := BuildSummary("suite", "p", criterionReport(t, viaJSON, []types.SpecState{passed, passed}, a, b), g)
		if err != nil {
			t.Fatal(err)
		}
		if !s.Complete || s.Passed || len(s.Criteria) != 3 {
			t.Fatalf("summary %+v: want complete, not passed, 3 criteria", s)
		}
		if s.Criteria[0].Value == nil || *s.Criteria[0].Value != 2 {
			t.Errorf("value of a lost (viaJSON=%v): %+v", viaJSON, s.Criteria[0])
		}
		if got := s.Criteria[2]; got.Name != "c" || !got.Missing || got.Result() != "NOT MEASURED" {
			t.Errorf("c: %+v", got)
		}
		msg := s.Failures().Error()
		if !strings.Contains(msg, "b: measured false") || !strings.Contains(msg, "c was not measured") {
			t.Errorf("failures: %s", msg)
		}
	}

	// Partial run (a spec filtered out): missing criteria do not fail the gate.
	r := criterionReport(t, false, []types.SpecState{passed}, a)
	r.PreRunStats.TotalSpecs = 2
	s, err := BuildSummary("suite", "p", r, g)
	if err != nil {
		t.Fatal(err)
	}
	if s.Complete || !s.Passed || s.Failures() != nil {
		t.Errorf("partial run: %+v, failures %v", s, s.Failures())
	}
	r.SuiteSucceeded = false // e.g. a spec without criteria failed
	if failed, _ := BuildSummary("suite", "p", r, g); failed.Passed {
		t.Error("a failed suite's gate must not pass")
	}
	var out strings.Builder
	if err := s.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CRITERION", "THRESHOLD", "MEASURED", "RESULT", "a  ", "PASS", "NOT MEASURED", "partial run"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}
