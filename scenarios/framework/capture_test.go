package framework

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/scenarios/framework/htmlreport"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/meter"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
)

var c0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return c0.Add(time.Duration(ms) * time.Millisecond) }

func TestTPSSeriesPerAccountWithTheMetersContractAndAudit(t *testing.T) {
	recs := []recorder.Record{
		{Time: at(100), Operator: "op", Account: "a"}, {Time: at(900), Operator: "op", Account: "a"},
		{Time: at(2100), Operator: "op", Account: "a"}, {Time: at(500), Operator: "op", Account: "b"},
	}
	audits := []meter.Report{{Account: "op/a", Limit: 1, WorstSlidingWindow: 2, Breaches: 1}}
	got := tpsSeries(recs, audits, 0)
	if len(got) != 2 {
		t.Fatalf("%d series, want one per account", len(got))
	}
	a, b := got[0], got[1]
	if !strings.HasSuffix(a.Title, "op/a") || !slices.Equal(a.PerSecond, []int{2, 0, 1}) || a.Limit != 1 || a.WorstSliding != 2 || a.Breaches != 1 {
		t.Errorf("op/a: %+v", a)
	}
	if !strings.HasSuffix(b.Title, "op/b") || b.Limit != 0 || !slices.Equal(b.PerSecond, []int{1}) || b.Note != "" {
		t.Errorf("op/b: %+v", b)
	}
	if n := tpsSeries(recs, nil, 7)[0].Note; !strings.Contains(n, "evicted") {
		t.Errorf("an evicting recorder is not noted: %q", n)
	}
}

func TestFaultSpansOfActiveAndRemovedFaults(t *testing.T) {
	now := at(10_000)
	active := []activeFault{{spec: faults.Spec{Name: "pushback", Type: "throttle", Params: json.RawMessage(`{ "tps": 180 }`),
		Match: faults.Match{Command: "submit_sm"}}, added: at(1000)}}
	recs := []recorder.Record{
		{Time: at(1500), Faults: []string{"pushback"}},
		{Time: at(3000), Faults: []string{"storm"}}, // removed since: known by the PDUs it changed
		{Time: at(500)},
		{Time: at(6000), Faults: []string{"storm", "pushback"}},
	}
	got := faultSpans(active, recs, now)
	if len(got) != 2 {
		t.Fatalf("%d spans, want 2: %+v", len(got), got)
	}
	p, s := got[0], got[1]
	if p.Name != "pushback" || !p.From.Equal(at(1000)) || !p.To.Equal(now) {
		t.Errorf("active fault: %+v, want from when it was added until now", p)
	}
	if p.Detail != `throttle, command submit_sm, {"tps":180}` {
		t.Errorf("detail %q", p.Detail)
	}
	if s.Name != "storm" || !s.From.Equal(at(3000)) || !s.To.Equal(at(6000)) || !strings.Contains(s.Detail, "removed") {
		t.Errorf("removed fault: %+v, want its first to its last PDU", s)
	}
}

func TestCorrelationChartsFromStoredParts(t *testing.T) {
	ms := func(v float64) *float64 { return &v }
	parts := []storedPart{
		{status: "accepted", receipt: "DELIVERED", submitMs: ms(3), receiptMs: ms(120)},
		{status: "accepted", receipt: "DELIVERED", submitMs: ms(4), receiptMs: ms(90)},
		{status: "accepted", submitMs: ms(5)},
		{status: "rejected", command: 0x0b, submitMs: ms(2)},
		{status: "unknown"},
	}
	items := correlationCharts(parts)
	if len(items) != 4 {
		t.Fatalf("%d charts, want 2 histograms and 2 breakdowns", len(items))
	}
	if h := items[0].Histogram; h == nil || h.N != 4 {
		t.Errorf("submit latency: %+v, want the 4 parts with a resp", h)
	}
	if h := items[1].Histogram; h == nil || h.N != 2 {
		t.Errorf("receipt latency: %+v, want the 2 parts with a receipt", h)
	}
	o := items[2].Breakdown
	if o == nil || o.Total() != 5 || o.Slices[0].Label != "accepted" || o.Slices[0].Count != 3 ||
		!slices.ContainsFunc(o.Slices, func(s htmlreport.Slice) bool { return s.Label == "rejected (0x0000000B)" }) {
		t.Errorf("outcomes: %+v", o)
	}
	r := items[3].Breakdown
	if r == nil || r.Total() != 3 || r.Slices[0].Label != "DELIVERED" || r.Slices[1].Label != "no receipt" {
		t.Errorf("receipt states: %+v", r)
	}
}
