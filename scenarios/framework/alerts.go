package framework

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2" //nolint:revive

	"github.com/smpp-connector/smpp-connector/internal/ruletest"
)

// What "a critical alert in the gate" means. The plan's exit criterion is
// "zero critical alerts sustained", and the rules say how long a condition
// must hold to be sustained: their `for:`. So the rules are evaluated
// honestly, at the scrape timestamps as they are, with the file's `for:`
// (compressing time, or shortening `for:`, would page on what Prometheus
// would not). A gate run lasts a minute or two, shorter than most `for:`
// (1 to 10 minutes), so firing alone would miss a condition that sets in
// and stays: the gate therefore also counts the critical alerts still
// pending at the end of the run, once its traffic is done, which would
// fire had the run gone on. An alert that went pending and cleared within
// the run (no owner during the lease's handover grace at start-up, say) is
// what `for:` is there to forgive: it is listed, not counted.
const (
	GateCriticalFiring       = "critical_alerts_firing"
	GateCriticalPendingAtEnd = "critical_alerts_pending_at_end"
)

// DefaultScrapeEvery is how often an AlertWatch scrapes and evaluates.
const DefaultScrapeEvery = time.Second

// AlertTarget is a connector whose /metrics an AlertWatch scrapes: its
// instance label and the address of its HTTP endpoints.
type AlertTarget struct {
	Instance string
	HTTPAddr string
}

// AlertWatchOptions tune an AlertWatch.
type AlertWatchOptions struct {
	// Every is the scrape and evaluation interval (default DefaultScrapeEvery).
	Every time.Duration
	// CapFor evaluates a copy of the rules with every `for:` capped at this
	// (ruletest.Options.CapFor), for a spec that must see an alert fire
	// within its own run; a gate never sets it.
	CapFor time.Duration
}

// AlertWatch is a small Prometheus for a spec: it scrapes each target's
// /metrics every second, as the job smpp-connector, into an in-memory TSDB
// and evaluates deploy/alerts.yaml after each round with Prometheus' rule
// engine (ruletest.Live), recording every alert that went pending or fired.
type AlertWatch struct {
	live    *ruletest.Live
	targets []AlertTarget
	every   time.Duration
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once

	mu        sync.Mutex
	rounds    int
	lastEval  time.Time
	scrapeErr map[string]string // instance -> last scrape error ("" when it succeeded)
	evalErr   error
}

// WatchAlerts starts an AlertWatch over targets; it stops (after a last
// round) when Stop is called or the calling node's scope ends.
func WatchAlerts(targets []AlertTarget, o AlertWatchOptions) *AlertWatch {
	GinkgoHelper()
	root, err := RepoRoot()
	if err != nil {
		Fail(err.Error())
	}
	if o.Every <= 0 {
		o.Every = DefaultScrapeEvery
	}
	live, err := ruletest.NewLive(filepath.Join(root, "deploy", "alerts.yaml"), ruletest.Options{Interval: o.Every, CapFor: o.CapFor})
	if err != nil {
		Fail(err.Error())
	}
	w := &AlertWatch{live: live, targets: targets, every: o.Every, stop: make(chan struct{}), done: make(chan struct{}),
		scrapeErr: map[string]string{}}
	DeferCleanup(func() error {
		w.Stop()
		return live.Close()
	})
	go w.run()
	return w
}

func (w *AlertWatch) run() {
	defer close(w.done)
	tick := time.NewTicker(w.every)
	defer tick.Stop()
	for {
		w.round()
		select {
		case <-w.stop:
			w.round() // the last evaluation: the state at the end of the run
			return
		case <-tick.C:
		}
	}
}

// round scrapes every target (each sample at its scrape's start, as
// Prometheus stamps them) and evaluates the rules.
func (w *AlertWatch) round() {
	client := http.Client{Timeout: w.every}
	for _, t := range w.targets {
		ts := time.Now()
		body, err := scrape(&client, t.HTTPAddr)
		labels := map[string]string{"job": "smpp-connector", "instance": t.Instance}
		if err == nil {
			err = w.live.Scraped(ts, labels, body)
		} else {
			err = errors.Join(err, w.live.ScrapeFailed(ts, labels))
		}
		w.mu.Lock()
		w.scrapeErr[t.Instance] = ""
		if err != nil {
			w.scrapeErr[t.Instance] = err.Error()
		}
		w.mu.Unlock()
	}
	ts := time.Now()
	_, err := w.live.Eval(ts)
	w.mu.Lock()
	w.rounds++
	w.lastEval = ts
	if err != nil && w.evalErr == nil {
		w.evalErr = err
	}
	w.mu.Unlock()
}

func scrape(c *http.Client, addr string) ([]byte, error) {
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s/metrics: %s", addr, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// Stop ends the watch after one last round; it is safe to call again.
func (w *AlertWatch) Stop() {
	w.once.Do(func() { close(w.stop) })
	<-w.done
}

// Episodes are the alerts of severity (all of them when severity is empty)
// that went pending or fired so far.
func (w *AlertWatch) Episodes(severity string) []ruletest.Episode {
	var out []ruletest.Episode
	for _, e := range w.live.Episodes() {
		if severity == "" || e.Labels["severity"] == severity {
			out = append(out, e)
		}
	}
	return out
}

// Query runs an instant query over what was scraped, at the last
// evaluation.
func (w *AlertWatch) Query(expr string) ([]ruletest.Sample, error) {
	w.mu.Lock()
	at := w.lastEval
	w.mu.Unlock()
	return w.live.Query(at, expr)
}

// Healthy returns nil once the watch has scraped every target at its
// last round and evaluated every rule without an error: what a spec
// waits for before it trusts that an alert did not fire.
func (w *AlertWatch) Healthy() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.evalErr != nil {
		return fmt.Errorf("rule evaluation: %w", w.evalErr)
	}
	if w.rounds == 0 {
		return fmt.Errorf("no round yet")
	}
	var errs []string
	for _, t := range w.targets {
		if e, ok := w.scrapeErr[t.Instance]; !ok || e != "" {
			errs = append(errs, fmt.Sprintf("%s: %s", t.Instance, e))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("scrapes failing: %s", strings.Join(errs, "; "))
	}
	return nil
}

// Rounds is how many scrape-and-evaluate rounds ran.
func (w *AlertWatch) Rounds() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rounds
}

// CriticalCounts are the gate's two figures: critical alerts that fired,
// and critical alerts pending (not fired) at the last evaluation.
func (w *AlertWatch) CriticalCounts() (firing, pendingAtEnd int) {
	for _, e := range w.Episodes("critical") {
		switch {
		case e.Fired():
			firing++
		case e.Active():
			pendingAtEnd++
		}
	}
	return firing, pendingAtEnd
}

// CheckGates stops the watch (its last round is the end of the run),
// records GateCriticalFiring and GateCriticalPendingAtEnd, writes every
// episode to the spec's output and a report entry, and returns whether
// both criteria passed.
func (w *AlertWatch) CheckGates() bool {
	GinkgoHelper()
	w.Stop()
	if err := w.Healthy(); err != nil {
		Fail("the alert watch cannot vouch for the end of the run: " + err.Error())
	}
	eps := w.Episodes("")
	lines := make([]string, len(eps))
	for i, e := range eps {
		lines[i] = e.String()
	}
	AddReportEntry("alert episodes", strings.Join(lines, "\n"))
	GinkgoWriter.Printf("alert watch: %d rounds over %d replicas; %d alert episodes:\n  %s\n",
		w.Rounds(), len(w.targets), len(eps), strings.Join(lines, "\n  "))
	firing, pending := w.CriticalCounts()
	a := CheckGate(GateCriticalFiring, float64(firing))
	b := CheckGate(GateCriticalPendingAtEnd, float64(pending))
	return a.Pass && b.Pass
}

// GateWouldPass reports whether measured meets the threshold of criterion
// name in scenarios/gates.yaml, without recording anything: for a spec
// showing that a gate fails when it should.
func GateWouldPass(name string, measured float64) bool {
	GinkgoHelper()
	_, t := mustThreshold(name)
	return t.Check(measured)
}

// WaitForCritical waits until a critical alert named name has an episode
// that pass accepts (e.g. Fired), and returns it.
func (w *AlertWatch) WaitForCritical(ctx context.Context, name string, pass func(ruletest.Episode) bool) ruletest.Episode {
	GinkgoHelper()
	var found ruletest.Episode
	EventuallyNil(ctx, func(context.Context) error {
		var seen []string
		for _, e := range w.Episodes("critical") {
			if e.Name == name && pass(e) {
				found = e
				return nil
			}
			seen = append(seen, e.String())
		}
		return fmt.Errorf("no %s episode as wanted after %d rounds; critical episodes: %v", name, w.Rounds(), seen)
	})
	return found
}
