package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/api"
)

func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

func row(tw io.Writer, cells ...any) {
	s := make([]string, len(cells))
	for i, c := range cells {
		s[i] = fmt.Sprint(c)
		if s[i] == "" {
			s[i] = "-"
		}
	}
	fmt.Fprintln(tw, strings.Join(s, "\t"))
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func printOperators(w io.Writer, ops []api.Operator) {
	tw := table(w)
	row(tw, "ID", "ADDR", "DOWN", "PROFILE", "SESSIONS", "ACCOUNTS (sessions/queued)")
	for _, o := range ops {
		var accs []string
		for _, a := range o.Accounts {
			accs = append(accs, fmt.Sprintf("%s (%d/%d)", a.SystemID, a.Sessions, a.Queued))
		}
		row(tw, o.ID, o.Addr, o.Down, o.Profile.Name, o.Sessions, strings.Join(accs, ", "))
	}
	tw.Flush()
}

func matchString(m api.Match) string {
	var p []string
	for _, kv := range [][2]string{{"operator", m.Operator}, {"account", m.Account}, {"dest", m.DestinationPrefix}, {"command", m.Command}} {
		if kv[1] != "" {
			p = append(p, kv[0]+"="+kv[1])
		}
	}
	if p == nil {
		return "*"
	}
	return strings.Join(p, " ")
}

func printFaults(w io.Writer, list []api.Fault) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no faults")
		return
	}
	tw := table(w)
	row(tw, "NAME", "TYPE", "PROBABILITY", "MATCH", "PARAMS", "HITS", "ADDED")
	for _, f := range list {
		p := "1"
		if f.Probability > 0 && f.Probability < 1 {
			p = strconv.FormatFloat(f.Probability, 'g', -1, 64)
		}
		hits := strconv.FormatUint(f.Hits, 10)
		if f.MO != nil {
			hits += fmt.Sprintf(" (sent %d, errors %d)", f.MO.Sent, f.MO.Errors)
		}
		row(tw, f.Name, f.Type, p, matchString(f.Match), clip(string(f.Params), 60), hits, f.Added.Local().Format(time.TimeOnly))
	}
	tw.Flush()
}

func printFaultTypes(w io.Writer, types []api.FaultType) {
	tw := table(w)
	row(tw, "TYPE", "DESCRIPTION")
	for _, t := range types {
		row(tw, t.Name, t.Description)
	}
	tw.Flush()
}

func printStats(w io.Writer, s api.Snapshot) {
	fmt.Fprintf(w, "uptime %s\n\n", s.Uptime)
	tw := table(w)
	if len(s.Counts) == 0 {
		fmt.Fprintln(w, "no traffic counted")
	} else {
		row(tw, "OPERATOR", "ACCOUNT", "COMMAND", "OUTCOME", "COUNT")
		for _, c := range s.Counts {
			row(tw, c.Operator, c.Account, c.Command, c.Outcome, c.Count)
		}
		tw.Flush()
	}
	fmt.Fprintln(w)
	if len(s.Sessions) == 0 {
		fmt.Fprintln(w, "no sessions")
	} else {
		tw = table(w)
		row(tw, "SESSION", "OPERATOR", "ACCOUNT", "BIND", "REMOTE", "SINCE", "OUTSTANDING")
		for _, ss := range s.Sessions {
			row(tw, ss.ID, ss.Operator, ss.Account, ss.BindType, ss.Remote, ss.Since.Local().Format(time.TimeOnly), ss.Outstanding)
		}
		tw.Flush()
	}
	fmt.Fprintln(w)
	tw = table(w)
	row(tw, "OPERATOR", "ACCOUNT", "QUEUED DELIVER_SM", "RECEIPTS SCHEDULED")
	ops := make([]string, 0, len(s.Queues))
	for op := range s.Queues {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		accs := make([]string, 0, len(s.Queues[op]))
		for acc := range s.Queues[op] {
			accs = append(accs, acc)
		}
		sort.Strings(accs)
		for _, acc := range accs {
			row(tw, op, acc, s.Queues[op][acc], s.Scheduled[op])
		}
	}
	tw.Flush()
}

func printMeter(w io.Writer, reps []api.MeterReport) {
	tw := table(w)
	row(tw, "ACCOUNT", "LIMIT", "MODE", "ARRIVALS", "BREACHES", "WORST SLIDING", "WORST FIXED", "CURRENT TPS")
	for _, r := range reps {
		limit := "none"
		if r.Limit > 0 {
			limit = strconv.Itoa(r.Limit)
		}
		row(tw, r.Account, limit, r.Mode, r.Arrivals, r.Breaches, r.WorstSlidingWindow, r.WorstFixedWindow, r.CurrentTPS)
	}
	tw.Flush()
}

func printPDUs(w io.Writer, p api.PDUs) {
	tw := table(w)
	row(tw, "SEQ", "TIME", "OPERATOR", "ACCOUNT", "COMMAND", "SEQNO", "ANSWER", "SOURCE", "DEST", "TEXT", "FAULTS")
	for _, r := range p.Records {
		row(tw, r.Seq, r.Time.Local().Format("15:04:05.000"), r.Operator, r.Account, r.Command, r.Sequence, r.Status,
			r.Source, r.Dest, clip(strings.ReplaceAll(r.Text, "\n", " "), 40), strings.Join(r.Faults, ","))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d records (recorder: capacity %d, total %d, evicted %d)\n", len(p.Records), p.Capacity, p.Total, p.Evicted)
}

func printScenario(w io.Writer, st api.ScenarioStatus) {
	name := st.Name
	if name == "" {
		name = "(unnamed)"
	}
	fmt.Fprintf(w, "scenario %s: %s, seed %d, started %s, elapsed %s, %d done (%d failed), %d pending\n",
		name, st.State, st.Seed, st.Started.Local().Format(time.TimeOnly), st.Elapsed, st.Done, st.Failed, st.Pending)
	tw := table(w)
	row(tw, "AT", "STEP", "LINE", "ACTION", "TARGET", "DONE", "ERROR")
	for _, s := range st.Steps {
		line := ""
		if s.Line > 0 {
			line = strconv.Itoa(s.Line)
		}
		row(tw, s.At, fmt.Sprintf("steps[%d]", s.Index), line, s.Action, s.Target, s.Done, s.Error)
	}
	tw.Flush()
}
