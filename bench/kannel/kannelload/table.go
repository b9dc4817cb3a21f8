package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// pairRun is one interleaved pair: a Kannel run and one of our benchmark, in
// one mode ("max": as fast as it goes; "steady": paced).
type pairRun struct {
	mode     string
	pair     int
	kannel   *result
	ours     map[string]float64 // the benchmark's units, nil if it printed no result line
	oursTail string             // the end of our output when there is no result line
	unpaced  bool               // compare.sh found that the benchmark does not know SMPP_BENCH_RATE
	kLoad    string             // `uptime` before each side's run
	oLoad    string
	kDuring  string // the busiest commands during each side's run
	oDuring  string
}

// unpacedMarker is the line compare.sh adds to a steady run of a benchmark
// that does not read SMPP_BENCH_RATE.
const unpacedMarker = "SMPP_BENCH_RATE is unknown to this benchmark"

var runFile = regexp.MustCompile(`^(kannel|ours)-([a-z]+)-([0-9]+)\.(json|txt|uptime|during)$`)

// loadRuns reads what compare.sh left in dir: kannel-MODE-PAIR.json (kannelload
// run), ours-MODE-PAIR.txt (go test -bench output) and SIDE-MODE-PAIR.uptime.
func loadRuns(dir string) ([]*pairRun, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	byKey := map[string]*pairRun{}
	var runs []*pairRun
	for _, e := range entries {
		m := runFile.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		side, mode, ext := m[1], m[2], m[4]
		pair, _ := strconv.Atoi(m[3])
		key := mode + "/" + m[3]
		r := byKey[key]
		if r == nil {
			r = &pairRun{mode: mode, pair: pair}
			byKey[key] = r
			runs = append(runs, r)
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		switch {
		case ext == "uptime" && side == "kannel":
			r.kLoad = loadAverage(string(b))
		case ext == "uptime":
			r.oLoad = loadAverage(string(b))
		case ext == "during" && side == "kannel":
			r.kDuring = busiest(string(b), 6)
		case ext == "during":
			r.oDuring = busiest(string(b), 6)
		case side == "kannel" && ext == "json":
			var res result
			if err := json.Unmarshal(b, &res); err == nil {
				r.kannel = &res
			}
		case side == "ours" && ext == "txt":
			r.ours = parseBench(string(b), "BenchmarkConnectorEndToEnd")
			r.unpaced = strings.Contains(string(b), unpacedMarker)
			if r.ours == nil {
				r.oursTail = tail(string(b), 3)
			}
		}
	}
	sort.Slice(runs, func(i, j int) bool {
		if runs[i].mode != runs[j].mode {
			return modeRank(runs[i].mode) < modeRank(runs[j].mode)
		}
		return runs[i].pair < runs[j].pair
	})
	return runs, nil
}

func modeRank(m string) int {
	if m == "max" {
		return 0
	}
	return 1
}

// parseBench reads a Go benchmark result line ("BenchmarkX-2  20000  51 ns/op
// 3412 msg/s ...") into unit -> value; nil if there is none.
func parseBench(out, name string) map[string]float64 {
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || (f[0] != name && !strings.HasPrefix(f[0], name+"-")) {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue // a log line that starts with the name
		}
		m := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			m[f[i+1]] = v
		}
		return m
	}
	return nil
}

// loadAverage is the "load average: a, b, c" of an `uptime` line, with its clock.
func loadAverage(uptime string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(uptime), "\n")
	clock := strings.Fields(line)
	_, la, ok := strings.Cut(line, "load average:")
	if !ok || len(clock) == 0 {
		return "?"
	}
	return clock[0] + " " + strings.TrimSpace(la)
}

// busiest reads compare.sh's "MEAN_CPU_PERCENT COMMAND" lines (busiest
// first) into "command N%, ..." for the first n.
func busiest(during string, n int) string {
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(during), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || len(out) == n {
			continue
		}
		out = append(out, f[1]+" "+f[0]+"%")
	}
	return strings.Join(out, ", ")
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// oursLatency is our receipt latency, the closest to Kannel's DLR callback
// (the receipt handed to the application) the benchmark reports: submit_sm
// to the receipt event stored in JetStream (event-out), else to the receipt's
// arrival at the connector (event; receipt in older benchmarks).
func oursLatency(m map[string]float64) (p50, p99 float64, unit string) {
	for _, kind := range []string{"event-out", "event", "receipt"} {
		if v, ok := m[kind+"-p99-ms"]; ok {
			return unitOr(m, kind+"-p50-ms"), v, kind
		}
	}
	return math.NaN(), math.NaN(), "none"
}

// oursArrivalP99 is submit_sm to the receipt's arrival at the connector.
func oursArrivalP99(m map[string]float64) float64 {
	if v, ok := m["event-p99-ms"]; ok {
		return v
	}
	return unitOr(m, "receipt-p99-ms")
}

// latencyMeaning says what each of our latency units measures.
var latencyMeaning = map[string]string{
	"event-out": "submit_sm to the receipt event stored in JetStream",
	"event":     "submit_sm to the receipt's arrival at the connector",
	"receipt":   "submit_sm to the receipt's arrival at the connector",
	"none":      "not reported",
}

// unitOr is a unit's value, NaN when the benchmark did not report it.
func unitOr(m map[string]float64, unit string) float64 {
	if v, ok := m[unit]; ok {
		return v
	}
	return math.NaN()
}

// oursCPU is CPU ms per message: connector+NATS+PostgreSQL when the benchmark
// reports it; else the connector's alone, from its CPU % and msg/s.
func oursCPU(m map[string]float64) (float64, string) {
	if v, ok := m["cpu-ms/msg-total"]; ok {
		return v, "total"
	}
	if v, ok := m["cpu-ms/msg-connector"]; ok {
		return v, "connector only"
	}
	if pct, ok := m["connector-CPU-%"]; ok && m["msg/s"] > 0 {
		return pct / 100 / m["msg/s"] * 1000, "connector only (from CPU %)"
	}
	return math.NaN(), "none"
}

func median(v []float64) float64 {
	var c []float64
	for _, x := range v {
		if !math.IsNaN(x) {
			c = append(c, x)
		}
	}
	if len(c) == 0 {
		return math.NaN()
	}
	sort.Float64s(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

func num(v float64, prec int) string {
	if math.IsNaN(v) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// modeSummary holds a mode's medians for the goals.
type modeSummary struct {
	kMsg, oMsg, ratio, kP99, oP99, oArr, kCPU, oCPU float64
	cpuRatio                                        float64
	cpuKind, latKind                                string
	rate                                            float64
	unpaced                                         bool
}

// printTable prints each mode's pairs, their medians, and the goals of the
// issue: 1.5x Kannel's msg/s, receipt p99 at a steady rate no worse than
// Kannel's DLR callback p99, CPU per message at most 0.7 of Kannel's.
func printTable(w io.Writer, runs []*pairRun) {
	sums := map[string]modeSummary{}
	for _, mode := range []string{"max", "steady"} {
		var rs []*pairRun
		for _, r := range runs {
			if r.mode == mode {
				rs = append(rs, r)
			}
		}
		if len(rs) == 0 {
			continue
		}
		sums[mode] = printMode(w, mode, rs)
	}
	fmt.Fprintln(w, "goals (medians of the pairs):")
	if s, ok := sums["max"]; ok {
		fmt.Fprintf(w, "  throughput   ours/Kannel msg/s %s (goal >= 1.5): %s\n", num(s.ratio, 2), verdict(s.ratio >= 1.5, s.ratio))
		cpu := verdict(s.cpuRatio <= 0.7, s.cpuRatio)
		if s.cpuKind != "total" {
			cpu = "not judged (our figure is not connector+NATS+PostgreSQL)"
		}
		fmt.Fprintf(w, "  CPU/message  ours/Kannel %s (goal <= 0.7; ours = %s): %s\n", num(s.cpuRatio, 2), s.cpuKind, cpu)
	}
	if s, ok := sums["steady"]; ok {
		paced := !s.unpaced && !(s.oMsg > 1.2*s.rate)
		fmt.Fprintf(w, "  latency p99 at %s/s  ours %s ms (%s; at the connector %s ms) vs Kannel DLR %s ms (goal: ours <= Kannel): %s\n",
			num(s.rate, 0), num(s.oP99, 1), s.latKind, num(s.oArr, 1), num(s.kP99, 1),
			verdict(s.oP99 <= s.kP99, s.oP99-s.kP99)+partial(!paced, fmt.Sprintf("but our runs were not paced (%s msg/s): the benchmark ignored SMPP_BENCH_RATE", num(s.oMsg, 0))))
	}
}

func verdict(ok bool, v float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case ok:
		return "met"
	}
	return "NOT met"
}

func partial(bad bool, why string) string {
	if bad {
		return " (" + why + ")"
	}
	return ""
}

func printMode(w io.Writer, mode string, rs []*pairRun) modeSummary {
	s := modeSummary{latKind: "none", cpuKind: "none"}
	head := "as fast as each side goes"
	for _, r := range rs {
		if r.kannel != nil && r.kannel.Rate > 0 {
			s.rate = r.kannel.Rate
			head = fmt.Sprintf("paced at %s msg/s", num(r.kannel.Rate, 0))
		}
	}
	fmt.Fprintf(w, "mode %s (%s)\n", mode, head)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "pair\tKannel msg/s\tours msg/s\tratio\tKannel DLR p50/p99 ms\tours p50/p99 ms\tours at connector p99\tKannel CPU ms/msg bb+sb\tours CPU ms/msg\tCPU ratio\tKannel load (clock 1m,5m,15m)\tours load\t")
	var kMsg, oMsg, ratio, kP50, kP99, oP50, oP99, oArr, kCPU, oCPU, cpuRatio []float64
	for _, r := range rs {
		k := result{MsgPerS: math.NaN(), DLRP50Ms: math.NaN(), DLRP99Ms: math.NaN()}
		kc := math.NaN()
		if r.kannel != nil {
			k = *r.kannel
			if v, ok := k.CPUMsPerMsg["total"]; ok {
				kc = v
			}
		}
		o := map[string]float64{"msg/s": math.NaN()}
		if r.ours != nil {
			o = r.ours
		}
		om := unitOr(o, "msg/s")
		op50, op99, latKind := oursLatency(o)
		oc, cpuKind := oursCPU(o)
		if r.ours != nil { // a failed run tells nothing of the kind
			s.latKind, s.cpuKind = latKind, cpuKind
		}
		s.unpaced = s.unpaced || r.unpaced
		kMsg, oMsg, ratio = append(kMsg, k.MsgPerS), append(oMsg, om), append(ratio, om/k.MsgPerS)
		kP50, kP99, oP50, oP99 = append(kP50, k.DLRP50Ms), append(kP99, k.DLRP99Ms), append(oP50, op50), append(oP99, op99)
		oArr = append(oArr, oursArrivalP99(o))
		kCPU, oCPU, cpuRatio = append(kCPU, kc), append(oCPU, oc), append(cpuRatio, oc/kc)
		note := ""
		if r.kannel != nil && r.kannel.Missing > 0 {
			note += fmt.Sprintf(" Kannel: %d DLRs missing;", r.kannel.Missing)
		}
		if r.ours == nil {
			note += " ours: no result line: " + r.oursTail
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s / %s\t%s / %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.pair, num(k.MsgPerS, 0), num(om, 0), num(om/k.MsgPerS, 2),
			num(k.DLRP50Ms, 1), num(k.DLRP99Ms, 1), num(op50, 1), num(op99, 1), num(oursArrivalP99(o), 1), num(kc, 3), num(oc, 3), num(oc/kc, 2), r.kLoad, r.oLoad, note)
	}
	s.kMsg, s.oMsg, s.ratio = median(kMsg), median(oMsg), median(ratio)
	s.kP99, s.oP99, s.oArr = median(kP99), median(oP99), median(oArr)
	s.kCPU, s.oCPU, s.cpuRatio = median(kCPU), median(oCPU), median(cpuRatio)
	fmt.Fprintf(tw, "median\t%s\t%s\t%s\t%s / %s\t%s / %s\t%s\t%s\t%s\t%s\t\t\t\n", num(s.kMsg, 0), num(s.oMsg, 0), num(s.ratio, 2),
		num(median(kP50), 1), num(s.kP99, 1), num(median(oP50), 1), num(s.oP99, 1), num(s.oArr, 1), num(s.kCPU, 3), num(s.oCPU, 3), num(s.cpuRatio, 2))
	tw.Flush()
	for _, r := range rs {
		if r.kDuring != "" || r.oDuring != "" {
			fmt.Fprintf(w, "  during pair %d (mean %% of one core per command): Kannel run: %s; our run: %s\n", r.pair, r.kDuring, r.oDuring)
		}
	}
	fmt.Fprintf(w, "  Kannel: msg/s from the first sendsms request to the last final DLR callback; DLR latency from request to callback; CPU of bearerbox+smsbox.\n")
	fmt.Fprintf(w, "  ours: BenchmarkConnectorEndToEnd; latency = %s (%s), at connector = submit_sm to the receipt's arrival; CPU = %s.\n\n",
		s.latKind, latencyMeaning[s.latKind], s.cpuKind)
	return s
}
