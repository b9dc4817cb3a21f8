package framework

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"
)

// Summary is the gate summary of one suite run (reports/<suite>.gates.json).
// Passed means every criterion passed (none left unmeasured in a complete run)
// and the suite itself succeeded.
type Summary struct {
	Suite     string      `json:"suite"`
	Group     string      `json:"group"`
	Passed    bool        `json:"passed"`
	Complete  bool        `json:"complete"`
	SuiteOK   bool        `json:"suiteSucceeded"`
	StartTime time.Time   `json:"startTime"`
	Duration  string      `json:"duration"`
	Criteria  []Criterion `json:"criteria"`
}

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

// Failures describes why the gates did not pass, or returns nil.
func (s Summary) Failures() error {
	var msgs []string
	for _, c := range s.Criteria {
		switch {
		case c.Missing && s.Complete:
			msgs = append(msgs, c.Name+" was not measured")
		case !c.Missing && !c.Pass:
			msgs = append(msgs, fmt.Sprintf("%s: measured %s, threshold %s", c.Name, c.Measured, c.Threshold))
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("gate %s not passed: %s", s.Group, strings.Join(msgs, "; "))
}

// WriteTable prints the summary as a table: criterion, threshold, measured,
// result.
func (s Summary) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "\nGate report: suite %s, group %s (%s)\n", s.Suite, s.Group, s.Duration)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CRITERION\tTHRESHOLD\tMEASURED\tRESULT")
	met := 0
	for _, c := range s.Criteria {
		if c.Pass && !c.Missing {
			met++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Name, c.Threshold, c.Measured, c.Result())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	verdict := "PASSED"
	switch {
	case !s.SuiteOK:
		verdict = "NOT PASSED (the suite failed)"
	case !s.Passed:
		verdict = "NOT PASSED"
	}
	note := ""
	if !s.Complete {
		note = " (partial run: criteria not measured do not count)"
	}
	_, err := fmt.Fprintf(w, "Gate %s: %s, %d of %d criteria met%s\n\n", s.Group, verdict, met, len(s.Criteria), note)
	return err
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
