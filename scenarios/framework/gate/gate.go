// Package gate holds the gate summary of a suite run: its criteria, the
// verdict and the text table. The framework writes it
// (reports/<suite>.gates.json) and the HTML report reads it; both use these
// types, so a field cannot be lost between them.
package gate

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
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

// Criterion is one measured exit criterion.
type Criterion struct {
	Name      string `json:"name"`
	Group     string `json:"group,omitempty"`
	Threshold string `json:"threshold"`
	Measured  string `json:"measured"`
	// Value is the measured number, for numeric criteria.
	Value *float64 `json:"value,omitempty"`
	Pass  bool     `json:"pass"`
	// Missing marks a criterion of the suite's group that was not measured.
	Missing bool `json:"missing,omitempty"`
	// Spec is the spec that measured it.
	Spec string `json:"spec,omitempty"`
}

// Result is "PASS", "FAIL" or "NOT MEASURED".
func (c Criterion) Result() string {
	switch {
	case c.Missing:
		return "NOT MEASURED"
	case c.Pass:
		return "PASS"
	}
	return "FAIL"
}

// String is how the criterion shows in Ginkgo's output.
func (c Criterion) String() string {
	return fmt.Sprintf("%s: measured %s, threshold %s: %s", c.Name, c.Measured, c.Threshold, c.Result())
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
