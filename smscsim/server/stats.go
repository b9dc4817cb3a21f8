package server

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/smpp-connector/smpp-connector/smscsim/meter"
)

// Stats counts PDUs by operator, account, command and outcome. It is the one
// source for both the control API's /stats and the Prometheus metrics.
type Stats struct {
	mu          sync.Mutex
	counts      map[statKey]uint64
	connections atomic.Uint64
}

type statKey struct{ operator, account, command, outcome string }

func newStats() *Stats { return &Stats{counts: map[statKey]uint64{}} }

func (s *Stats) add(op, acc, cmd, outcome string) { s.addN(op, acc, cmd, outcome, 1) }

func (s *Stats) addN(op, acc, cmd, outcome string, n uint64) {
	s.mu.Lock()
	s.counts[statKey{op, acc, cmd, outcome}] += n
	s.mu.Unlock()
}

func (s *Stats) reset() {
	s.mu.Lock()
	clear(s.counts)
	s.mu.Unlock()
}

// Count is one counter.
type Count struct {
	Operator string `json:"operator"`
	Account  string `json:"account,omitempty"`
	Command  string `json:"command"`
	Outcome  string `json:"outcome"` // response status, "none", "generic_nack ...", receipt stat...
	Count    uint64 `json:"count"`
}

// Counts returns every counter, sorted.
func (s *Stats) Counts() []Count {
	s.mu.Lock()
	out := make([]Count, 0, len(s.counts))
	for k, v := range s.counts {
		out = append(out, Count{k.operator, k.account, k.command, k.outcome, v})
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return strings.Join([]string{a.Operator, a.Account, a.Command, a.Outcome}, "\x00") <
			strings.Join([]string{b.Operator, b.Account, b.Command, b.Outcome}, "\x00")
	})
	return out
}

// Sum adds the counters that match; empty arguments match everything.
func (s *Stats) Sum(op, acc, cmd, outcome string) uint64 {
	var n uint64
	for _, c := range s.Counts() {
		if (op == "" || c.Operator == op) && (acc == "" || c.Account == acc) &&
			(cmd == "" || c.Command == cmd) && (outcome == "" || c.Outcome == outcome) {
			n += c.Count
		}
	}
	return n
}

// Stats returns the simulator's counters.
func (s *Sim) Stats() *Stats { return s.stats }

// Snapshot is the whole picture the control API serves on /stats.
type Snapshot struct {
	Time      time.Time                 `json:"time"`
	Uptime    string                    `json:"uptime"`
	Counts    []Count                   `json:"counts"`
	Sessions  []SessionInfo             `json:"sessions"`
	Queues    map[string]map[string]int `json:"receiptQueues"` // operator -> account -> waiting deliver_sm
	Scheduled map[string]int            `json:"receiptsScheduled"`
	// DeliverResp is deliver_sm to deliver_sm_resp, every operator's.
	DeliverResp meter.LatencySummary `json:"deliverResp"`
}

// Snapshot gathers the counters, sessions and queue depths.
func (s *Sim) Snapshot() Snapshot {
	now := time.Now()
	snap := Snapshot{Time: now, Counts: s.stats.Counts(), Sessions: s.Sessions(),
		Queues: map[string]map[string]int{}, Scheduled: map[string]int{}, DeliverResp: s.DeliverResp.Summary()}
	if !s.started.IsZero() {
		snap.Uptime = now.Sub(s.started).Round(time.Second).String()
	}
	for _, id := range s.order {
		snap.Queues[id] = s.ops[id].QueueDepth()
		snap.Scheduled[id] = s.ops[id].sched.pending()
	}
	return snap
}

// Collector exports the simulator's state as Prometheus metrics, read at scrape
// time from the same counters the API serves.
func (s *Sim) Collector() prometheus.Collector { return collector{s} }

type collector struct{ s *Sim }

var (
	descPDUs     = prometheus.NewDesc("smscsim_pdus_total", "Requests received and how they were answered, and deliver_sm sent.", []string{"operator", "account", "command", "outcome"}, nil)
	descSessions = prometheus.NewDesc("smscsim_sessions", "Connected sessions by bind type.", []string{"operator", "bind_type"}, nil)
	descConns    = prometheus.NewDesc("smscsim_connections_total", "TCP connections accepted.", nil, nil)
	descQueue    = prometheus.NewDesc("smscsim_deliver_queue", "deliver_sm waiting for a receiver.", []string{"operator", "account"}, nil)
	descArrivals = prometheus.NewDesc("smscsim_tps_arrivals_total", "Messages counted by the operator's TPS meter.", []string{"operator", "account"}, nil)
	descBreaches = prometheus.NewDesc("smscsim_tps_breaches_total", "TPS breaches as the operator counts them.", []string{"operator", "account"}, nil)
	descWorst    = prometheus.NewDesc("smscsim_tps_worst_window", "Most messages seen in one 1 s window.", []string{"operator", "account"}, nil)
	descFaults   = prometheus.NewDesc("smscsim_fault_hits_total", "Times an active fault acted.", []string{"name", "type"}, nil)
	descRecorder = prometheus.NewDesc("smscsim_recorder_evicted_total", "Records evicted from the bounded recorder.", nil, nil)
)

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPDUs, descSessions, descConns, descQueue, descArrivals, descBreaches, descWorst, descFaults, descRecorder} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	for _, n := range s.stats.Counts() {
		ch <- prometheus.MustNewConstMetric(descPDUs, prometheus.CounterValue, float64(n.Count), n.Operator, n.Account, n.Command, n.Outcome)
	}
	byType := map[[2]string]int{}
	for _, ss := range s.Sessions() {
		byType[[2]string{ss.Operator, ss.BindType}]++
	}
	for k, v := range byType {
		ch <- prometheus.MustNewConstMetric(descSessions, prometheus.GaugeValue, float64(v), k[0], k[1])
	}
	ch <- prometheus.MustNewConstMetric(descConns, prometheus.CounterValue, float64(s.stats.connections.Load()))
	for _, id := range s.order {
		for acc, n := range s.ops[id].QueueDepth() {
			ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(n), id, acc)
		}
	}
	for _, r := range s.Meter.Reports(time.Now()) {
		op, acc, _ := strings.Cut(r.Account, "/")
		ch <- prometheus.MustNewConstMetric(descArrivals, prometheus.CounterValue, float64(r.Arrivals), op, acc)
		ch <- prometheus.MustNewConstMetric(descBreaches, prometheus.CounterValue, float64(r.Breaches), op, acc)
		ch <- prometheus.MustNewConstMetric(descWorst, prometheus.GaugeValue, float64(r.WorstSlidingWindow), op, acc)
	}
	for _, in := range s.Faults.List() {
		ch <- prometheus.MustNewConstMetric(descFaults, prometheus.CounterValue, float64(in.Hits()), in.Spec.Name, in.Spec.Type)
	}
	_, _, ev := s.Recorder.Stats()
	ch <- prometheus.MustNewConstMetric(descRecorder, prometheus.CounterValue, float64(ev))
}
