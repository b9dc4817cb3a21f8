package framework

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2" //nolint:revive

	"github.com/smpp-connector/smpp-connector/scenarios/framework/htmlreport"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/meter"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
)

// The fixtures feed the HTML report themselves, at the end of the spec that
// started them (StartSimulator: what the SMSC saw; StartConnector: what the
// connector stored), so that every suite's page has its charts without each
// suite asking. The charts are evidence, not gates: a capture that fails is
// logged and never fails the spec.

// RecordSimulator adds what a simulator saw to the HTML report: per account,
// the submit_sm arrivals per second against the contracted TPS (with the
// meter's sliding-second audit), its faults on the timeline, and the
// breakdowns of its answers to submit_sm and of the receipts it sent.
func RecordSimulator(s *Simulator) {
	GinkgoHelper()
	now := time.Now()
	submits := s.Sim.Recorder.Query(recorder.Filter{Command: "submit_sm"})
	_, _, evicted := s.Sim.Recorder.Stats()
	for _, ts := range tpsSeries(submits, s.Sim.Meter.Reports(now), evicted) {
		RecordTPS(ts)
	}
	var active []activeFault
	for _, in := range s.Sim.Faults.List() {
		active = append(active, activeFault{spec: in.Spec, added: in.Added})
	}
	for _, fs := range faultSpans(active, s.Sim.Recorder.Query(recorder.Filter{}), now) {
		RecordFault(fs.Name, fs.Detail, fs.From, fs.To)
	}
	counts := s.Sim.Stats().Counts()
	if b := breakdown("SMSC answers to submit_sm", counts, "submit_sm"); len(b.Slices) > 0 {
		RecordBreakdown(b)
	}
	if b := breakdown("receipts the SMSC sent (stat)", counts, "receipt"); len(b.Slices) > 0 {
		RecordBreakdown(b)
	}
}

// tpsSeries makes one series per operator/account that received submit_sm,
// with its limit and audit from the meter (keyed "operator/account").
func tpsSeries(submits []recorder.Record, audits []meter.Report, evicted uint64) []htmlreport.TPSSeries {
	byKey := map[string][]time.Time{}
	for _, r := range submits {
		k := r.Operator + "/" + r.Account
		byKey[k] = append(byKey[k], r.Time)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []htmlreport.TPSSeries
	for _, k := range keys {
		s := htmlreport.NewTPSSeries("TPS at the SMSC: "+k, 0, byKey[k])
		for _, m := range audits {
			if m.Account == k {
				s.Limit, s.WorstSliding, s.Breaches = m.Limit, m.WorstSlidingWindow, m.Breaches
			}
		}
		if evicted > 0 {
			s.Note = fmt.Sprintf("the simulator's recorder evicted its %d oldest PDUs: the first seconds may be short", evicted)
		}
		out = append(out, s)
	}
	return out
}

type activeFault struct {
	spec  faults.Spec
	added time.Time
}

// faultSpans puts each fault the simulator knows of on the timeline: one
// still in force from when it was added until now, and one since removed
// from the first to the last PDU it changed (the recorder names them).
func faultSpans(active []activeFault, records []recorder.Record, now time.Time) []htmlreport.FaultSpan {
	type span struct {
		from, to time.Time
		detail   string
	}
	spans := map[string]*span{}
	var order []string
	widen := func(name string, from, to time.Time, detail string) {
		s := spans[name]
		if s == nil {
			s = &span{from: from, to: to}
			spans[name] = s
			order = append(order, name)
		}
		if from.Before(s.from) {
			s.from = from
		}
		if to.After(s.to) {
			s.to = to
		}
		if detail != "" {
			s.detail = detail
		}
	}
	for _, a := range active {
		widen(a.spec.Name, a.added, now, faultDetail(a.spec))
	}
	for _, r := range records {
		for _, name := range r.Faults {
			widen(name, r.Time, r.Time, "")
		}
	}
	out := make([]htmlreport.FaultSpan, 0, len(order))
	for _, name := range order {
		s := spans[name]
		detail := s.detail
		if detail == "" {
			detail = "removed; from the first to the last PDU it changed"
		}
		out = append(out, htmlreport.FaultSpan{Name: name, Detail: detail, From: s.from, To: s.to})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].From.Before(out[j].From) })
	return out
}

// faultDetail is a fault's type, probability, match and parameters, short.
func faultDetail(s faults.Spec) string {
	parts := []string{s.Type}
	if s.Probability > 0 && s.Probability < 1 {
		parts = append(parts, fmt.Sprintf("p=%g", s.Probability))
	}
	for _, m := range []struct{ k, v string }{{"operator", s.Match.Operator}, {"account", s.Match.Account},
		{"destination", s.Match.DestinationPrefix + "*"}, {"command", s.Match.Command}} {
		if m.v != "" && m.v != "*" {
			parts = append(parts, m.k+" "+m.v)
		}
	}
	if len(s.Params) > 0 && string(s.Params) != "null" {
		var compact bytes.Buffer
		if err := json.Compact(&compact, s.Params); err == nil {
			parts = append(parts, compact.String())
		}
	}
	return strings.Join(parts, ", ")
}

// breakdown sums the simulator's counters of command by outcome, largest first.
func breakdown(title string, counts []server.Count, command string) htmlreport.Breakdown {
	by := map[string]int{}
	for _, c := range counts {
		if c.Command == command {
			by[c.Outcome] += int(c.Count)
		}
	}
	return sortedBreakdown(title, by)
}

func sortedBreakdown(title string, by map[string]int) htmlreport.Breakdown {
	b := htmlreport.Breakdown{Title: title}
	for l, n := range by {
		b.Slices = append(b.Slices, htmlreport.Slice{Label: l, Count: n})
	}
	sort.Slice(b.Slices, func(i, j int) bool {
		if b.Slices[i].Count != b.Slices[j].Count {
			return b.Slices[i].Count > b.Slices[j].Count
		}
		return b.Slices[i].Label < b.Slices[j].Label
	})
	return b
}

// RecordCorrelations adds, from the connector's store (the database at
// dsn), the parts created since: submit latency (submit_sm to its resp) and
// receipt latency (submit_sm to the receipt) histograms, and the breakdowns
// of submit outcomes and of the receipt states of accepted parts.
func RecordCorrelations(ctx context.Context, dsn string, since time.Time) error {
	GinkgoHelper()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT submit_status, coalesce(command_status, 0), coalesce(receipt_state, ''),
			extract(epoch FROM resp_at - submitted_at) * 1000, extract(epoch FROM receipt_at - submitted_at) * 1000
		FROM smpp.message_correlations WHERE created_at >= $1`, since)
	if err != nil {
		return err
	}
	var parts []storedPart
	for rows.Next() {
		var p storedPart
		if err := rows.Scan(&p.status, &p.command, &p.receipt, &p.submitMs, &p.receiptMs); err != nil {
			return err
		}
		parts = append(parts, p)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(parts) == 0 {
		return nil
	}
	for _, it := range correlationCharts(parts) {
		recordItem(it)
	}
	return nil
}

type storedPart struct {
	status, receipt     string
	command             int32
	submitMs, receiptMs *float64 // NULL until the resp, the receipt
}

func correlationCharts(parts []storedPart) []htmlreport.Item {
	var submit, receipt []float64
	outcomes, states := map[string]int{}, map[string]int{}
	for _, p := range parts {
		if p.submitMs != nil {
			submit = append(submit, *p.submitMs)
		}
		if p.receiptMs != nil {
			receipt = append(receipt, *p.receiptMs)
		}
		label := p.status
		if p.status == "rejected" {
			label = fmt.Sprintf("rejected (0x%08X)", uint32(p.command))
		}
		outcomes[label]++
		if p.status == "accepted" {
			if p.receipt == "" {
				states["no receipt"]++
			} else {
				states[p.receipt]++
			}
		}
	}
	sub := htmlreport.NewHistogram("submit latency (submit_sm to submit_sm_resp, as stored)", "ms", htmlreport.LatencyBoundsMs, submit)
	rec := htmlreport.NewHistogram("receipt latency (submit_sm to receipt, as stored)", "ms", htmlreport.LatencyBoundsMs, receipt)
	out := []htmlreport.Item{{Histogram: &sub}, {Histogram: &rec}}
	ob := sortedBreakdown(fmt.Sprintf("submit outcomes of %d parts", len(parts)), outcomes)
	out = append(out, htmlreport.Item{Breakdown: &ob})
	if len(states) > 0 {
		sb := sortedBreakdown("receipt states of accepted parts", states)
		out = append(out, htmlreport.Item{Breakdown: &sb})
	}
	return out
}

// captureAtEnd runs a capture at the end of the calling node's scope (before
// the fixtures registered earlier are torn down), logging a failure.
func captureAtEnd(what string, f func(ctx context.Context) error) {
	DeferCleanup(func(ctx SpecContext) {
		// A spec that timed out still gets its charts: they show why.
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := f(c); err != nil {
			fmt.Fprintf(GinkgoWriter, "html report: %s not captured: %v\n", what, err)
		}
	})
}
