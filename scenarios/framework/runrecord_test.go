package framework

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/smpp-connector/smpp-connector/scenarios/framework/htmlreport"
)

// runReport is a suite report whose specs carry run record entries, as
// recorded on this process or (viaJSON) arriving from another one.
func runReport(t *testing.T, viaJSON bool, items ...htmlreport.Item) types.Report {
	t.Helper()
	r := types.Report{StartTime: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	for _, it := range items {
		e := types.ReportEntry{Name: runEntry, Value: types.WrapEntryValue(it)}
		if viaJSON {
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			e = types.ReportEntry{}
			if err := json.Unmarshal(b, &e); err != nil {
				t.Fatal(err)
			}
		}
		// A criterion entry beside it is not a chart input.
		c := types.ReportEntry{Name: criterionEntry, Value: types.WrapEntryValue(Criterion{Name: "c"})}
		r.SpecReports = append(r.SpecReports, types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: it.Spec,
			ReportEntries: types.ReportEntries{c, e}})
	}
	return r
}

func TestCollectRunKeepsEveryItemAndItsSpec(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 1, 0, time.UTC)
	items := []htmlreport.Item{
		{Spec: "a", TPS: &htmlreport.TPSSeries{Title: "t", Limit: 5, Start: t0, PerSecond: []int{1, 2}}},
		{Spec: "b", Fault: &htmlreport.FaultSpan{Name: "f", From: t0, To: t0.Add(time.Second)}},
		{Spec: "b", Breakdown: &htmlreport.Breakdown{Title: "o", Slices: []htmlreport.Slice{{Label: "accepted", Count: 3}}}},
	}
	for _, viaJSON := range []bool{false, true} {
		run, err := CollectRun("phaseX", runReport(t, viaJSON, items...))
		if err != nil {
			t.Fatal(err)
		}
		if run.Suite != "phaseX" || len(run.Items) != 3 {
			t.Fatalf("viaJSON=%v: %+v", viaJSON, run)
		}
		for i := range items {
			got, want := run.Items[i], items[i]
			if got.Spec != want.Spec || !reflect.DeepEqual(got.TPS, want.TPS) || !reflect.DeepEqual(got.Breakdown, want.Breakdown) ||
				(want.Fault != nil && (got.Fault == nil || !got.Fault.From.Equal(want.Fault.From))) {
				t.Errorf("viaJSON=%v item %d: %+v, want %+v", viaJSON, i, got, want)
			}
		}
	}
}

func TestWriteRunReportRendersTheIndexWithTheTrend(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvReportDir, dir)
	v1, v2 := 99.7, 99.9
	write := func(v *float64) {
		s := Summary{Suite: "phaseX", Group: "phaseX", Passed: true, Complete: true, SuiteOK: true,
			Criteria: []Criterion{{Name: "rate", Threshold: ">= 99.5", Measured: "x", Value: v, Pass: true}}}
		b, _ := json.Marshal(s)
		if err := os.WriteFile(filepath.Join(dir, "phaseX.gates.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// No previous run: nothing to keep, no error.
	if err := KeepPreviousSummary("phaseX"); err != nil {
		t.Fatal(err)
	}
	write(&v1)
	if err := KeepPreviousSummary("phaseX"); err != nil {
		t.Fatal(err)
	}
	write(&v2) // what WriteReports does next
	items := []htmlreport.Item{{Spec: "spec", TPS: &htmlreport.TPSSeries{Title: "t", Limit: 5, PerSecond: []int{1, 7}}}}
	if err := WriteRunReport("phaseX", runReport(t, true, items...)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"phaseX.gates.prev.json", "phaseX.run.json", "index.html"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`data-chart="tps"`, "0.2 (was 99.7)", `class="trend better"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
}
