package framework

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2" //nolint:revive
	"github.com/onsi/ginkgo/v2/types"

	"github.com/smpp-connector/smpp-connector/scenarios/framework/htmlreport"
)

// runEntry names the report entries that carry chart inputs. Like the
// criteria (criterionEntry), they travel from parallel processes to the
// ReportAfterSuite on process 1, which writes them to reports/<suite>.run.json
// and renders reports/index.html.
const runEntry = "smpp-run-record"

// RecordTPS adds a series of submit_sm per second against a contract to the
// running suite's HTML report, in the calling spec's section.
func RecordTPS(s htmlreport.TPSSeries) { recordItem(htmlreport.Item{TPS: &s}) }

// RecordHistogram adds a latency histogram (htmlreport.NewHistogram) to the
// HTML report.
func RecordHistogram(h htmlreport.Histogram) { recordItem(htmlreport.Item{Histogram: &h}) }

// RecordBreakdown adds counts by label (outcomes, receipt states) to the
// HTML report.
func RecordBreakdown(b htmlreport.Breakdown) { recordItem(htmlreport.Item{Breakdown: &b}) }

// RecordFault puts a fault on the HTML report's timeline, from when it was
// injected to when it was lifted (from == to for one that acts at an
// instant), and shades it over the spec's TPS charts.
func RecordFault(name, detail string, from, to time.Time) {
	recordItem(htmlreport.Item{Fault: &htmlreport.FaultSpan{Name: name, Detail: detail, From: from, To: to}})
}

func recordItem(it htmlreport.Item) {
	GinkgoHelper()
	it.Spec = CurrentSpecReport().FullText()
	// Never shown in the console: these are data for the page, not news.
	AddReportEntry(runEntry, it, ReportEntryVisibilityNever)
}

// CollectRun returns the chart inputs recorded in a suite's report, in the
// order they were recorded per spec.
func CollectRun(suite string, r types.Report) (htmlreport.Run, error) {
	run := htmlreport.Run{Suite: suite, StartTime: r.StartTime, Items: []htmlreport.Item{}}
	for _, sr := range r.SpecReports {
		for _, e := range sr.ReportEntries {
			if e.Name != runEntry {
				continue
			}
			var it htmlreport.Item
			if raw, ok := e.Value.GetRawValue().(htmlreport.Item); ok {
				it = raw
			} else if err := json.Unmarshal([]byte(e.Value.AsJSON), &it); err != nil {
				return run, fmt.Errorf("decode run record entry of %q: %w", sr.FullText(), err)
			}
			run.Items = append(run.Items, it)
		}
	}
	return run, nil
}

// KeepPreviousSummary copies reports/<suite>.gates.json, the summary of the
// suite's previous run, to <suite>.gates.prev.json before the run's own
// summary replaces it: the HTML report's trend column compares the two. No
// previous summary is fine.
func KeepPreviousSummary(suite string) error {
	dir, err := ReportDir()
	if err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(dir, suite+htmlreport.SummarySuffix))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, suite+htmlreport.PreviousSuffix), b, 0o644)
}

// WriteRunReport writes the suite's chart inputs to reports/<suite>.run.json
// and renders reports/index.html from every suite's files there, so that the
// page always shows the latest run of each suite.
func WriteRunReport(suite string, r types.Report) error {
	dir, err := ReportDir()
	if err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	run, err := CollectRun(suite, r)
	if err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	b, err := json.MarshalIndent(run, "", " ")
	if err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, suite+htmlreport.RunSuffix), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	if err := htmlreport.Write(dir, time.Now()); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	fmt.Fprintf(os.Stdout, "HTML report: %s\n", filepath.Join(dir, htmlreport.IndexFile))
	return nil
}
