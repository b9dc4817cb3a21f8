package metrics

import (
	"cmp"
	"encoding/json"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const dashboardFile = "../../deploy/grafana/smpp-connector.json"

// offDashboard are the connector's metrics the dashboard leaves off, and
// why: a new metric is either shown or listed here, on purpose.
var offDashboard = map[string]string{
	"smpp_store_flush_seconds_total":        "store tuning, not cutover: see the store's benchmarks",
	"smpp_store_inbox_appends_total":        "store tuning, not cutover",
	"smpp_store_inbox_appended_total":       "store tuning, not cutover",
	"smpp_store_inbox_append_seconds_total": "store tuning, not cutover",
}

// dashboard is the part of Grafana's dashboard JSON that holds queries.
type dashboard struct {
	UID        string
	Templating struct {
		List []struct {
			Type, Name string
			AllValue   string
			Query      json.RawMessage // a string, or {"query": "..."} since Grafana 10
		}
	}
	Panels []panel
}

type panel struct {
	ID      int
	Type    string
	Title   string
	Targets []struct{ Expr, RefID string }
	Panels  []panel // a collapsed row's
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if d.UID == "" || len(d.Panels) < 10 {
		t.Fatalf("%s: uid %q, %d panels: not the dashboard expected", dashboardFile, d.UID, len(d.Panels))
	}
	return d
}

// Grafana's own variables, by what they stand for in a query.
var grafanaVariables = map[string]string{
	"__rate_interval": "5m", "__interval": "1m", "__range": "1h",
	"__interval_ms": "60000", "__range_s": "3600", "__range_ms": "3600000",
}

var variableRE = regexp.MustCompile(`\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)(?::[^\]]*)?\]\]`)

// expand replaces the dashboard's variables in a query the way Grafana
// would before sending it: a template variable by its All value (the
// regexp every panel's matcher gets when all are selected), an interval by
// a duration. An undefined variable is an error: Grafana would send "$x".
func expand(q string, vars map[string]string) (string, []string) {
	var errs []string
	out := variableRE.ReplaceAllStringFunc(q, func(m string) string {
		g := variableRE.FindStringSubmatch(m)
		name := g[1] + g[2] + g[3]
		if v, ok := grafanaVariables[name]; ok {
			return v
		}
		if v, ok := vars[name]; ok {
			return v
		}
		errs = append(errs, "undefined variable $"+name)
		return m
	})
	return out, errs
}

var labelValuesRE = regexp.MustCompile(`^\s*label_values\(\s*(?:(.*),\s*)?([a-zA-Z_]\w*)\s*\)\s*$`)
var queryResultRE = regexp.MustCompile(`^\s*query_result\((.*)\)\s*$`)

// Every query of the dashboard, panels and variables, parses with
// Prometheus' parser and selects metrics and labels the connector exposes,
// so that a renamed metric or label cannot leave a panel silently empty.
func TestDashboardQueriesUseExistingMetrics(t *testing.T) {
	d := readDashboard(t)
	c := newPromQL(t)
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = cmp.Or(v.AllValue, "x")
	}
	report := func(where, q string, errs []string) {
		for _, e := range errs {
			t.Errorf("%s: %s\n\tquery: %s", where, e, q)
		}
	}

	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q string
		if json.Unmarshal(v.Query, &q) != nil {
			var obj struct{ Query string }
			if err := json.Unmarshal(v.Query, &obj); err != nil {
				t.Fatalf("variable %s: query %s: %v", v.Name, v.Query, err)
			}
			q = obj.Query
		}
		where := "variable " + v.Name
		q, errs := expand(q, vars)
		report(where, q, errs)
		switch lv, qr := labelValuesRE.FindStringSubmatch(q), queryResultRE.FindStringSubmatch(q); {
		case lv != nil && lv[1] != "":
			// label_values(selector, label): the label must be on the
			// selector's series: grouping by it checks both.
			report(where, q, c.check("count by ("+lv[2]+") ("+lv[1]+")"))
		case lv != nil:
			if !slices.ContainsFunc(slices.Collect(maps.Values(c.reg)), func(f family) bool { return slices.Contains(f.labels, lv[2]) }) {
				t.Errorf("%s: no metric of the connector has label %s", where, lv[2])
			}
		case qr != nil:
			report(where, q, c.check(qr[1]))
		default:
			t.Errorf("%s: query %q is of a form this test does not read: teach it", where, q)
		}
	}

	var walk func(ps []panel)
	queries := 0
	walk = func(ps []panel) {
		for _, p := range ps {
			where := "panel " + p.Title
			if p.Type != "row" && p.Type != "text" && len(p.Targets) == 0 {
				t.Errorf("%s: no query", where)
			}
			for _, tg := range p.Targets {
				if strings.TrimSpace(tg.Expr) == "" {
					t.Errorf("%s, query %s: empty", where, tg.RefID)
					continue
				}
				q, errs := expand(tg.Expr, vars)
				report(where, q, errs)
				report(where, q, c.check(q))
				queries++
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	if queries < 20 {
		t.Fatalf("%d queries read: the dashboard did not decode as expected", queries)
	}

	// The dashboard shows every smpp_ metric, or says here why not.
	for _, name := range names(t) {
		if strings.HasPrefix(name, "smpp_") && !c.used[name] && offDashboard[name] == "" {
			t.Errorf("%s is on no panel: add one, or list it in offDashboard with the reason", name)
		}
		if c.used[name] && offDashboard[name] != "" {
			t.Errorf("%s is on a panel and listed in offDashboard", name)
		}
	}
}
