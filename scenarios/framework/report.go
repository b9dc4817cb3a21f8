package framework

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/smpp-connector/smpp-connector/scenarios/framework/gate"
)

// Summary is the gate summary of one suite run (gate.Summary).
type Summary = gate.Summary

// BuildSummary turns a suite report into its gate summary: the recorded
// criteria, plus the criteria of group in gates that were not measured. Only
// in a complete run (every spec ran to a verdict) does a criterion that was not
// measured count as a failure; a partial run (label or focus filters, an
// interrupt, a failed BeforeSuite) lists it without failing on it.
func BuildSummary(suite, group string, r types.Report, gates *Gates) (Summary, error) {
	recorded, err := CollectCriteria(r)
	if err != nil {
		return Summary{}, err
	}
	s := Summary{
		Suite:     suite,
		Group:     group,
		SuiteOK:   r.SuiteSucceeded,
		StartTime: r.StartTime,
		Duration:  r.RunTime.Round(time.Millisecond).String(),
		Criteria:  recorded,
	}
	// Complete: every spec of the suite ran to a verdict (none filtered out,
	// skipped after a failed BeforeSuite, pending or interrupted).
	its := r.SpecReports.WithLeafNodeType(types.NodeTypeIt)
	s.Complete = r.PreRunStats.TotalSpecs > 0 &&
		its.CountWithState(types.SpecStatePassed|types.SpecStateFailed|types.SpecStatePanicked|types.SpecStateTimedout) == r.PreRunStats.TotalSpecs
	seen := map[string]bool{}
	for _, c := range recorded {
		seen[c.Name] = true
	}
	if gates != nil {
		if grp, ok := gates.Groups[group]; ok {
			for _, name := range grp.Names() {
				if !seen[name] {
					t := grp.Criteria[name]
					s.Criteria = append(s.Criteria, Criterion{Name: name, Group: group, Threshold: t.String(),
						Measured: "-", Missing: true})
				}
			}
		}
	}
	// The gate passes when its criteria do and the suite itself succeeded.
	s.Passed = s.SuiteOK
	for _, c := range s.Criteria {
		if (c.Missing && s.Complete) || (!c.Missing && !c.Pass) {
			s.Passed = false
		}
	}
	return s, nil
}

// WriteReports writes the reports of a finished suite into ReportDir:
// <suite>.junit.xml (Ginkgo's JUnit reporter), <suite>.gates.json (the
// summary) and <suite>.gates.txt (the table, also printed). It returns an
// error when the reports cannot be written or the gates did not pass.
func WriteReports(suite, group string, r types.Report) error {
	dir, err := ReportDir()
	if err != nil {
		return fmt.Errorf("gate report: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("gate report: %w", err)
	}
	var errs []error
	junit := filepath.Join(dir, suite+".junit.xml")
	if err := reporters.GenerateJUnitReport(r, junit); err != nil {
		errs = append(errs, fmt.Errorf("write %s: %w", junit, err))
	}
	gates, gerr := DefaultGates()
	if gerr != nil {
		errs = append(errs, gerr)
	}
	s, err := BuildSummary(suite, group, r, gates)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	js, _ := json.MarshalIndent(s, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, suite+".gates.json"), append(js, '\n'), 0o644); err != nil {
		errs = append(errs, err)
	}
	var table strings.Builder
	_ = s.WriteTable(&table)
	fmt.Fprint(os.Stdout, table.String())
	if err := os.WriteFile(filepath.Join(dir, suite+".gates.txt"), []byte(table.String()), 0o644); err != nil {
		errs = append(errs, err)
	}
	fmt.Fprintf(os.Stdout, "Reports: %s\n", dir)
	if err := s.Failures(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
