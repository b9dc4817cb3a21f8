package htmlreport

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/smpp-connector/smpp-connector/scenarios/framework/gate"
)

// Report file names in the reports directory, by suite.
const (
	SummarySuffix  = ".gates.json"      // the gate summary of the latest run
	PreviousSuffix = ".gates.prev.json" // the summary of the run before it
	RunSuffix      = ".run.json"        // the latest run's chart inputs
	IndexFile      = "index.html"
)

// Summary and Criterion are the gate summary the framework writes
// (reports/<suite>.gates.json).
type (
	Summary   = gate.Summary
	Criterion = gate.Criterion
)

// Suite is everything the reports directory holds about one suite; any of
// the three may be missing (a suite interrupted before its report, a run
// record from a framework older than the page).
type Suite struct {
	Name     string
	Summary  *Summary
	Previous *Summary
	Run      *Run
}

// Load reads every suite's files in dir, sorted by suite name. A file that
// cannot be decoded is an error naming it: a page that silently drops a
// suite would read as if the suite had never run.
func Load(dir string) ([]Suite, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	bySuite := map[string]*Suite{}
	get := func(name string) *Suite {
		if bySuite[name] == nil {
			bySuite[name] = &Suite{Name: name}
		}
		return bySuite[name]
	}
	var errs []error
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		name := e.Name()
		path := filepath.Join(dir, name)
		switch {
		case strings.HasSuffix(name, PreviousSuffix): // before SummarySuffix: both end in .json
			s := new(Summary)
			if err := readJSON(path, s); err != nil {
				errs = append(errs, err)
				continue
			}
			get(strings.TrimSuffix(name, PreviousSuffix)).Previous = s
		case strings.HasSuffix(name, SummarySuffix):
			s := new(Summary)
			if err := readJSON(path, s); err != nil {
				errs = append(errs, err)
				continue
			}
			get(strings.TrimSuffix(name, SummarySuffix)).Summary = s
		case strings.HasSuffix(name, RunSuffix):
			r := new(Run)
			if err := readJSON(path, r); err != nil {
				errs = append(errs, err)
				continue
			}
			get(strings.TrimSuffix(name, RunSuffix)).Run = r
		}
	}
	out := make([]Suite, 0, len(bySuite))
	for _, s := range bySuite {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, errors.Join(errs...)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Write renders the page of every suite in dir into dir/index.html, through
// a temporary file renamed over the old page, so that a reader (or a CI
// artifact step) never sees half a page. Suites whose files could not be
// read are still rendered from what could; the error names the rest.
func Write(dir string, now time.Time) error {
	suites, loadErr := Load(dir)
	if loadErr != nil && errors.Is(loadErr, fs.ErrNotExist) && len(suites) == 0 {
		return loadErr
	}
	tmp, err := os.CreateTemp(dir, ".index-*.html")
	if err != nil {
		return errors.Join(loadErr, err)
	}
	defer os.Remove(tmp.Name()) // after the rename there is nothing left to remove
	if err := Render(tmp, suites, now); err != nil {
		tmp.Close()
		return errors.Join(loadErr, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return errors.Join(loadErr, err)
	}
	if err := tmp.Close(); err != nil {
		return errors.Join(loadErr, err)
	}
	return errors.Join(loadErr, os.Rename(tmp.Name(), filepath.Join(dir, IndexFile)))
}

// Trend compares a criterion with the same criterion of the previous run.
type Trend struct {
	// Kind is "new" (no previous measurement), "same", "better", "worse" or
	// "changed" (a different value where no direction is known).
	Kind string
	Text string
}

// TrendOf compares cur with prev (nil when the previous run did not have it).
// Which way is better follows the threshold: up for "min" (">="), down for
// "max" ("<="), towards zero for "within"; a condition only gets better or
// worse by passing or failing.
func TrendOf(cur Criterion, prev *Criterion) Trend {
	if prev == nil || prev.Missing {
		if cur.Missing {
			return Trend{Kind: "new"} // nothing to say twice
		}
		return Trend{Kind: "new", Text: "no previous measurement"}
	}
	if cur.Missing {
		return Trend{Kind: "changed", Text: "not measured (was " + prev.Measured + ")"}
	}
	verdict := ""
	if cur.Pass != prev.Pass {
		verdict = "; was " + prev.Result()
	}
	if cur.Value == nil || prev.Value == nil {
		switch {
		case cur.Pass == prev.Pass && cur.Measured == prev.Measured:
			return Trend{Kind: "same", Text: "unchanged"}
		case cur.Pass && !prev.Pass:
			return Trend{Kind: "better", Text: "was " + prev.Result()}
		case !cur.Pass && prev.Pass:
			return Trend{Kind: "worse", Text: "was " + prev.Result()}
		}
		return Trend{Kind: "changed", Text: "was " + prev.Measured}
	}
	d := *cur.Value - *prev.Value
	if d == 0 {
		return Trend{Kind: "same", Text: "unchanged" + verdict}
	}
	arrow := "▲"
	if d < 0 {
		arrow = "▼"
	}
	text := fmt.Sprintf("%s %s (was %s)%s", arrow, signed(d), formatNumber(*prev.Value), verdict)
	var better bool
	th := strings.TrimSpace(cur.Threshold)
	switch {
	case strings.HasPrefix(th, ">"):
		better = d > 0
	case strings.HasPrefix(th, "<"):
		better = d < 0
	case strings.HasPrefix(th, "within"):
		better = math.Abs(*cur.Value) < math.Abs(*prev.Value)
		if math.Abs(*cur.Value) == math.Abs(*prev.Value) {
			return Trend{Kind: "changed", Text: text}
		}
	default:
		return Trend{Kind: "changed", Text: text}
	}
	if better {
		return Trend{Kind: "better", Text: text}
	}
	return Trend{Kind: "worse", Text: text}
}

func signed(v float64) string {
	s := formatNumber(v)
	if v > 0 {
		return "+" + s
	}
	return s
}

// formatNumber rounds away float noise (0.30000000000000004) for display.
func formatNumber(v float64) string {
	return strconv.FormatFloat(math.Round(v*1e6)/1e6, 'f', -1, 64)
}
