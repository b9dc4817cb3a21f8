package framework

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2" //nolint:revive

	"github.com/smpp-connector/smpp-connector/connector/compare"
	"github.com/smpp-connector/smpp-connector/scenarios/framework/htmlreport"
)

// The Phase 2 gate's criteria of the message-by-message comparison with the
// legacy dispatcher (scenarios/gates.yaml).
const (
	GateLegacyMatchRate     = "legacy_match_rate"
	GateLegacyDisagreements = "legacy_disagreements"
)

// ExportQuery turns connector/compare/export.sql, written for psql with the
// variables :'since' and :'until', into the same query with $1 and $2, so
// that the suite runs the very text an operator runs. Each variable must
// appear once, and no other.
func ExportQuery(sql string) (string, error) {
	for i, v := range []string{":'since'", ":'until'"} {
		if n := strings.Count(sql, v); n != 1 {
			return "", fmt.Errorf("export query: %s appears %d times, want once", v, n)
		}
		sql = strings.Replace(sql, v, fmt.Sprintf("$%d", i+1), 1)
	}
	if strings.Contains(sql, ":'") {
		return "", errors.New("export query: a psql variable other than since and until")
	}
	return sql, nil
}

// ExportOutcomes runs connector/compare/export.sql on the database dsn for
// the rows created in [since, until) and returns what psql -A -t would
// print: one outcome event (JSON) a line, one line a part.
func ExportOutcomes(ctx context.Context, dsn string, since, until time.Time) ([]byte, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(root, "connector", "compare", "export.sql"))
	if err != nil {
		return nil, err
	}
	q, err := ExportQuery(string(b))
	if err != nil {
		return nil, err
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, q, since, until)
	if err != nil {
		return nil, fmt.Errorf("export.sql: %w", err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("export.sql: %w", err)
	}
	var out bytes.Buffer
	for _, l := range lines {
		out.WriteString(l)
		out.WriteByte('\n')
	}
	return out.Bytes(), nil
}

// LegacyFiles are the files `smpp-connector compare` is given: the legacy
// log, its mapping and the connector's outcome log.
type LegacyFiles struct {
	Dir, Legacy, Mapping, Connector string
}

// Command is the command line that compares the files by hand.
func (f LegacyFiles) Command(minMatch float64) string {
	return fmt.Sprintf("smpp-connector compare -legacy %s -mapping %s -connector %s -min-match %v",
		f.Legacy, f.Mapping, f.Connector, minMatch)
}

// WriteLegacyFiles writes legacy.csv (lines), legacy-mapping.yaml
// (LegacyMappingYAML) and connector.jsonl (the export) into dir.
func WriteLegacyFiles(dir string, lines []LegacyLine, connectorJSONL []byte) (LegacyFiles, error) {
	f := LegacyFiles{Dir: dir, Legacy: filepath.Join(dir, "legacy.csv"),
		Mapping: filepath.Join(dir, "legacy-mapping.yaml"), Connector: filepath.Join(dir, "connector.jsonl")}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return f, err
	}
	var csv bytes.Buffer
	if err := WriteLegacyCSV(&csv, lines); err != nil {
		return f, err
	}
	return f, errors.Join(os.WriteFile(f.Legacy, csv.Bytes(), 0o644),
		os.WriteFile(f.Mapping, []byte(LegacyMappingYAML), 0o644),
		os.WriteFile(f.Connector, connectorJSONL, 0o644))
}

// CompareLegacyFiles reads the files as `smpp-connector compare` does
// (compare.LoadMapping, ReadLegacy, ReadConnector), joins them and writes
// the report beside them, as text (compare.txt) and JSON (compare.json,
// every disagreement). A line either log cannot read is an error: the gate
// compares whole logs only.
func CompareLegacyFiles(f LegacyFiles, minMatch float64) (*compare.Report, error) {
	m, err := compare.LoadMapping(f.Mapping)
	if err != nil {
		return nil, err
	}
	read := func(path string, r func(string, *os.File) (*compare.Log, error)) (*compare.Log, error) {
		file, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer file.Close()
		l, err := r(path, file)
		if err == nil && len(l.Invalid) > 0 {
			err = fmt.Errorf("%d invalid line(s), the first: %v", len(l.Invalid), l.Invalid[0])
		}
		return l, err
	}
	legacy, err := read(f.Legacy, func(p string, r *os.File) (*compare.Log, error) { return compare.ReadLegacy(p, r, m) })
	if err != nil {
		return nil, fmt.Errorf("legacy log: %w", err)
	}
	connector, err := read(f.Connector, func(p string, r *os.File) (*compare.Log, error) { return compare.ReadConnector(p, r) })
	if err != nil {
		return nil, fmt.Errorf("connector log: %w", err)
	}
	rep := compare.NewReport(legacy, connector, minMatch)
	var text, js bytes.Buffer
	err = errors.Join(rep.WriteText(&text), rep.WriteJSON(&js))
	if err == nil {
		err = errors.Join(os.WriteFile(filepath.Join(f.Dir, "compare.txt"), text.Bytes(), 0o644),
			os.WriteFile(filepath.Join(f.Dir, "compare.json"), js.Bytes(), 0o644))
	}
	return rep, err
}

// legacyListLimit bounds the message ids the criterion's text names (the
// report entry and compare.json list them all).
const legacyListLimit = 20

// LegacyDisagreements is the legacy_disagreements criterion's figure and
// text: the disagreeing messages, each with its class, sorted by id.
func LegacyDisagreements(rep *compare.Report) (int, string) {
	ds := append([]compare.Disagreement(nil), rep.Disagreements...)
	if len(ds) == 0 {
		return 0, "none"
	}
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].MessageID < ds[j].MessageID })
	parts := make([]string, 0, min(len(ds), legacyListLimit)+1)
	for i, d := range ds {
		if i == legacyListLimit {
			parts = append(parts, fmt.Sprintf("and %d more", len(ds)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", d.MessageID, d.Class))
	}
	return len(ds), strings.Join(parts, ", ")
}

// DisagreeingIDs lists the message ids of the report's disagreements, sorted.
func DisagreeingIDs(rep *compare.Report) []string {
	ids := make([]string, 0, len(rep.Disagreements))
	for _, d := range rep.Disagreements {
		ids = append(ids, d.MessageID)
	}
	sort.Strings(ids)
	return ids
}

// LegacyMatchPercent is legacy_match_rate's measured value: the report's
// match rate in percent, rounded down to 0.01 (99.496% is not 99.5%).
func LegacyMatchPercent(rep *compare.Report) float64 {
	return math.Floor(rep.MatchRate*10000+1e-6) / 100
}

// LegacyMinMatch is legacy_match_rate's minimum in scenarios/gates.yaml as
// compare's share (99.5 -> 0.995): the report's verdict and the gate's are
// the same.
func LegacyMinMatch() float64 {
	GinkgoHelper()
	_, t := mustThreshold(GateLegacyMatchRate)
	if t.Min == nil {
		Fail(fmt.Sprintf("gate %s: want a min (a percentage of messages), got %s", GateLegacyMatchRate, t))
	}
	return *t.Min / 100
}

// LegacyCriteria judges a comparison against legacy_match_rate and
// legacy_disagreements in g, without recording them: the criteria the gate
// records (CheckLegacyGates), for a spec or test to look at first.
// legacy_disagreements' measured text names the disagreeing messages.
func LegacyCriteria(rep *compare.Report, g *Gates) ([]Criterion, error) {
	n, detail := LegacyDisagreements(rep)
	var out []Criterion
	for _, m := range []struct {
		name   string
		value  float64
		detail string
	}{{GateLegacyMatchRate, LegacyMatchPercent(rep), ""}, {GateLegacyDisagreements, float64(n), detail}} {
		group, t, ok := g.Lookup(m.name)
		if !ok || !t.Numeric() {
			return nil, fmt.Errorf("gate %q: want a numeric criterion in the gates file", m.name)
		}
		v := m.value
		c := Criterion{Name: m.name, Group: group, Threshold: t.String(), Measured: t.FormatMeasured(v), Value: &v, Pass: t.Check(v)}
		if m.detail != "" {
			c.Measured += ": " + m.detail
		}
		out = append(out, c)
	}
	return out, nil
}

// CheckLegacyGates records legacy_match_rate and legacy_disagreements
// (LegacyCriteria) from the comparison, the messages by class for the HTML
// report, and the text report as a report entry (console, JUnit): what an
// operator reads from `smpp-connector compare`, with the command that
// reproduces it.
func CheckLegacyGates(rep *compare.Report, f LegacyFiles) (rate, disagreements Criterion) {
	GinkgoHelper()
	g, err := DefaultGates()
	if err != nil {
		Fail(err.Error())
	}
	crits, err := LegacyCriteria(rep, g)
	if err != nil {
		Fail(err.Error())
	}
	var text strings.Builder
	_ = rep.WriteText(&text)
	AddReportEntry("legacy comparison", text.String()+"\n$ "+f.Command(rep.MinMatch))
	slices := []htmlreport.Slice{{Label: "matched", Count: rep.Matched}}
	for _, c := range compare.Classes {
		if n := rep.Classes[c]; n > 0 {
			slices = append(slices, htmlreport.Slice{Label: string(c), Count: n})
		}
	}
	RecordBreakdown(htmlreport.Breakdown{Title: "Submit outcomes against the legacy dispatcher's log, by message", Slices: slices})
	return record(crits[0]), record(crits[1])
}
