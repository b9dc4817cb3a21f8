package framework

import (
	"encoding/json"
	"fmt"

	. "github.com/onsi/ginkgo/v2" //nolint:revive
	"github.com/onsi/ginkgo/v2/types"

	"github.com/smpp-connector/smpp-connector/scenarios/framework/gate"
)

// criterionEntry names the report entries that carry criteria. Report entries
// travel from parallel processes to the ReportAfterSuite on process 1, so the
// gate report sees every criterion however the suite was run.
const criterionEntry = "smpp-gate-criterion"

// Criterion is one measured exit criterion (gate.Criterion).
type Criterion = gate.Criterion

// RecordCriterion adds a measured criterion to the gate report of the running
// suite. Call it from a spec (or setup node); threshold and measured are shown
// as given. The spec still decides itself whether to fail: the gate report
// fails the suite afterwards when any recorded criterion did not pass.
func RecordCriterion(name, threshold, measured string, pass bool) Criterion {
	GinkgoHelper()
	return record(Criterion{Name: name, Threshold: threshold, Measured: measured, Pass: pass})
}

func record(c Criterion) Criterion {
	GinkgoHelper()
	c.Spec = CurrentSpecReport().FullText()
	AddReportEntry(criterionEntry, c)
	return c
}

// CheckGate compares a measured number with the threshold of criterion name
// in scenarios/gates.yaml, records the result and returns it.
func CheckGate(name string, measured float64) Criterion {
	GinkgoHelper()
	group, t := mustThreshold(name)
	if !t.Numeric() {
		Fail(fmt.Sprintf("gate %s is a condition (expect: %v): use CheckGateCondition", name, *t.Expect))
	}
	v := measured
	return record(Criterion{Name: name, Group: group, Threshold: t.String(), Measured: t.FormatMeasured(measured),
		Value: &v, Pass: t.Check(measured)})
}

// CheckGateCondition records whether the condition of criterion name (an
// "expect" threshold in scenarios/gates.yaml) held; detail, when given, is
// shown as the measured value instead of true/false.
func CheckGateCondition(name string, ok bool, detail string) Criterion {
	GinkgoHelper()
	group, t := mustThreshold(name)
	if t.Numeric() {
		Fail(fmt.Sprintf("gate %s is numeric (%s): use CheckGate", name, t))
	}
	measured := fmt.Sprint(ok)
	if detail != "" {
		measured = fmt.Sprintf("%v (%s)", ok, detail)
	}
	return record(Criterion{Name: name, Group: group, Threshold: t.String(), Measured: measured,
		Pass: t.CheckCondition(ok)})
}

func mustThreshold(name string) (string, Threshold) {
	GinkgoHelper()
	g, err := DefaultGates()
	if err != nil {
		Fail(err.Error())
	}
	group, t, ok := g.Lookup(name)
	if !ok {
		Fail(fmt.Sprintf("gate %q is not in the gates file", name))
	}
	return group, t
}

// CollectCriteria returns the criteria recorded in a suite's report, in the
// order they were recorded per spec.
func CollectCriteria(r types.Report) ([]Criterion, error) {
	var out []Criterion
	for _, sr := range r.SpecReports {
		for _, e := range sr.ReportEntries {
			if e.Name != criterionEntry {
				continue
			}
			var c Criterion
			if raw, ok := e.Value.GetRawValue().(Criterion); ok {
				c = raw
			} else if err := json.Unmarshal([]byte(e.Value.AsJSON), &c); err != nil {
				return nil, fmt.Errorf("decode criterion entry of %q: %w", sr.FullText(), err)
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// GateCondition is CheckGateCondition for a criterion that a whole spec
// proves: it returns met, to be called once the spec has shown the condition,
// and records the criterion when the spec ends (also when it fails part-way,
// then as not met), so that a failing spec never leaves its criterion
// unmeasured.
func GateCondition(name string) (met func(detail string)) {
	GinkgoHelper()
	mustThreshold(name) // fail early on a name the gates file lacks
	var (
		ok     bool
		detail string
	)
	DeferCleanup(func() {
		CheckGateCondition(name, ok && !CurrentSpecReport().Failed(), detail)
	})
	return func(d string) { ok, detail = true, d }
}
