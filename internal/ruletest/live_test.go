package ruletest

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

const liveRules = `groups:
  - name: g
    rules:
      - alert: NoBind
        expr: sum by (operator) (bound) == 0
        for: 3s
        labels: {severity: critical}
      - alert: SlowNoBind
        expr: sum by (operator) (bound) == 0
        for: 10m
        labels: {severity: critical}
`

func newLive(t *testing.T, o Options) *Live {
	t.Helper()
	file := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(file, []byte(liveRules), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := NewLive(file, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	return l
}

var (
	replica1 = map[string]string{"job": "smpp-connector", "instance": "r1"}
	replica2 = map[string]string{"job": "smpp-connector", "instance": "r2"}
)

func exposition(v string) []byte {
	return []byte("# HELP bound 1 when bound\n# TYPE bound gauge\nbound{operator=\"a\"} " + v + "\n")
}

// scrapeAndEval scrapes both replicas at t0+i seconds, r1 exposing
// values[i] and r2 always 0 (a standby), and evaluates.
func scrapeAndEval(t *testing.T, l *Live, t0 time.Time, values ...string) {
	t.Helper()
	for i, v := range values {
		ts := t0.Add(time.Duration(i) * time.Second)
		if err := l.Scraped(ts, replica1, exposition(v)); err != nil {
			t.Fatal(err)
		}
		if err := l.Scraped(ts, replica2, exposition("0")); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Eval(ts); err != nil {
			t.Fatal(err)
		}
	}
}

// Scraped series carry their target's labels, alerts go pending at the
// first evaluation their expression holds and fire after `for:` at the
// scrape timestamps as they are, and each is recorded as one episode with
// when it started, fired and ended.
func TestLiveEpisodes(t *testing.T) {
	l := newLive(t, Options{})
	t0 := time.Unix(1_700_000_000, 0)
	scrapeAndEval(t, l, t0, "1", "1", "0", "0", "0", "0", "0", "1", "1")

	got, err := l.Query(t0.Add(8*time.Second), `sum by (instance, job) (bound)`)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Labels["instance"] != "r1" || got[0].Value != 1 || got[1].Labels["job"] != "smpp-connector" {
		t.Fatalf("query: %+v", got)
	}
	eps := l.Episodes()
	if len(eps) != 2 {
		t.Fatalf("episodes: %+v", eps)
	}
	byName := map[string]Episode{}
	for _, e := range eps {
		byName[e.Name] = e
	}
	fast, slow := byName["NoBind"], byName["SlowNoBind"]
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	if !fast.Since.Equal(at(2)) || !fast.FiredAt.Equal(at(5)) || !fast.Last.Equal(at(6)) || !fast.Ended.Equal(at(7)) {
		t.Errorf("NoBind: %+v", fast)
	}
	if fast.Labels["severity"] != "critical" || fast.Labels["operator"] != "a" || fast.Active() || !fast.Fired() {
		t.Errorf("NoBind labels/state: %+v", fast)
	}
	if slow.Fired() || !slow.Since.Equal(at(2)) || !slow.Ended.Equal(at(7)) {
		t.Errorf("SlowNoBind must stay pending and end: %+v", slow)
	}
}

// An alert still active at the last evaluation is open (Active), pending
// or firing.
func TestLiveOpenEpisode(t *testing.T) {
	l := newLive(t, Options{})
	t0 := time.Unix(1_700_000_000, 0)
	scrapeAndEval(t, l, t0, "1", "0", "0")
	for _, e := range l.Episodes() {
		if !e.Active() || e.Fired() || !e.Since.Equal(t0.Add(time.Second)) || !e.Last.Equal(t0.Add(2*time.Second)) {
			t.Errorf("%s: %+v", e.Name, e)
		}
	}
	if n := len(l.Episodes()); n != 2 {
		t.Errorf("%d episodes, want 2", n)
	}
}

// CapFor evaluates a copy of the rules with `for:` capped: the 10m rule
// fires within seconds, as the 3s one does; the file is untouched.
func TestLiveCapFor(t *testing.T) {
	l := newLive(t, Options{CapFor: 2 * time.Second})
	for _, r := range l.Rules() {
		if r.For > 2*time.Second {
			t.Errorf("%s: for %v, want <= 2s", r.Name, r.For)
		}
	}
	t0 := time.Unix(1_700_000_000, 0)
	scrapeAndEval(t, l, t0, "1", "0", "0", "0")
	for _, e := range l.Episodes() {
		if !e.Fired() || !e.FiredAt.Equal(t0.Add(3*time.Second)) {
			t.Errorf("%s did not fire at +3s: %+v", e.Name, e)
		}
	}
	if n := len(l.Episodes()); n != 2 {
		t.Errorf("%d episodes, want 2", n)
	}
}

// A series missing from a target's next scrape is stale at once, as in
// Prometheus (not looked back at for 5 minutes); a failed scrape sets up to
// 0 and makes every series of the target stale.
func TestLiveStaleness(t *testing.T) {
	l := newLive(t, Options{})
	t0 := time.Unix(1_700_000_000, 0)
	count := func(at time.Time, expr string) int {
		t.Helper()
		v, err := l.Query(at, expr)
		if err != nil {
			t.Fatal(err)
		}
		return len(v)
	}
	if err := l.Scraped(t0, replica1, []byte("bound{operator=\"a\"} 1\nbound{operator=\"b\"} 1\n")); err != nil {
		t.Fatal(err)
	}
	if n := count(t0, `bound`); n != 2 {
		t.Fatalf("%d series, want 2", n)
	}
	if err := l.Scraped(t0.Add(time.Second), replica1, []byte("bound{operator=\"a\"} 1\n")); err != nil {
		t.Fatal(err)
	}
	if n := count(t0.Add(time.Second), `bound`); n != 1 {
		t.Errorf("%d series after operator b went, want 1", n)
	}
	if n := count(t0.Add(time.Second), `up == 1`); n != 1 {
		t.Errorf("up: %d series at 1, want 1", n)
	}
	if err := l.ScrapeFailed(t0.Add(2*time.Second), replica1); err != nil {
		t.Fatal(err)
	}
	if n := count(t0.Add(2*time.Second), `bound`); n != 0 {
		t.Errorf("%d series after a failed scrape, want 0", n)
	}
	if n := count(t0.Add(2*time.Second), `up == 0`); n != 1 {
		t.Errorf("up: %d series at 0, want 1", n)
	}
	if err := l.Scraped(t0.Add(3*time.Second), replica1, []byte("not an exposition {")); err == nil {
		t.Error("a malformed exposition was accepted")
	}
}
