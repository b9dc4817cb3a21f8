package service

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/secrets"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// reloadPoll is how often the tests' connectors read their operators file.
const reloadPoll = time.Second

// opsFile writes an operators file and returns its path; rewrite replaces
// its content the way a ConfigMap update does (a new file renamed over it).
func opsFile(t *testing.T, content string) (path string, rewrite func(string)) {
	t.Helper()
	dir := t.TempDir()
	path = filepath.Join(dir, "operators.yaml")
	rewrite = func(c string) {
		t.Helper()
		tmp := filepath.Join(dir, "next.yaml")
		if err := os.WriteFile(tmp, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	rewrite(content)
	return path, rewrite
}

// scrape returns the connector's /metrics.
func (r *replica) scrape(t *testing.T) []byte {
	t.Helper()
	resp, err := http.Get("http://" + r.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

// metric reads one sample of the connector's /metrics (-1 when absent).
func (r *replica) metric(t *testing.T, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(r.scrape(t))
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

func publish(t *testing.T, js jetstream.JetStream, op, prefix string, n int) {
	t.Helper()
	for i := range n {
		cmd := fmt.Sprintf(`{"messageId":"%s-%d","operatorId":%q,"source":{"addr":"ACME","ton":5,"npi":0},`+
			`"destination":{"addr":"447700900123","ton":1,"npi":1},"text":"reload %d"}`, prefix, i, op, i)
		if _, err := js.Publish(context.Background(), natscontract.DispatchSubjectFor(op), []byte(cmd)); err != nil {
			t.Fatal(err)
		}
	}
}

// The MNO lowers the contract from 100 to 20 TPS for a while, then raises it
// again; the operators file follows, and the connector obeys each change on
// the simulator's meter, while a backlog flows, without restarting: no
// breach at either contract, and nothing lost or sent twice.
func TestReloadChangesTheTPSWhileTrafficFlows(t *testing.T) {
	// The connector paces at 90% of the contract, as in the two-replica
	// test: the simulator runs in this busy, race-instrumented process and
	// may stamp an arrival tens of milliseconds late.
	const n = 1000
	sim := startSim(t, server.OperatorConfig{ID: "mno-a", Listen: "127.0.0.1:0",
		Accounts: []server.AccountConfig{{SystemID: "acme", Password: "pw", TPS: 100}}})
	op, _ := sim.Operator("mno-a")
	window := 10
	entry := func(tps int) string {
		return fmt.Sprintf("operators:\n  - id: mno-a\n    endpoints: {primary: [{address: %q}]}\n    tps: %d\n    window: %d\n",
			op.Addr(), tps, window)
	}
	path, rewrite := opsFile(t, entry(90))
	ops, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	svc := testService(t)
	svc.OperatorsFile, svc.OperatorsReload = path, reloadPoll
	r := startConnector(t, svc, ops, Options{Secrets: staticSource{secrets.Credential{SystemID: "acme", Password: "pw", Version: "1"}}})
	smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		if v := r.readyz(t); v["ready"] != true {
			return fmt.Errorf("not ready: %v", v)
		}
		return nil
	})
	nc, _ := nats.Connect(svc.NATS.URL)
	defer nc.Close()
	js, _ := jetstream.New(nc)
	publish(t, js, "mno-a", "tps", n)
	submitted := func() uint64 { return sim.Stats().Sum("mno-a", "acme", "submit_sm", "") }
	smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		if s := submitted(); s < 100 {
			return fmt.Errorf("%d submitted", s)
		}
		return nil
	})

	// phase moves the contract as an MNO and an operations team would: going
	// down, the file first, and the SMSC enforces the lower contract once
	// the connector runs it (the meter restarts then); going up, the SMSC
	// first (the meter restarts with the higher limit), then the file.
	applied := func(tps int) {
		t.Helper()
		wrote := time.Now()
		rewrite(entry(tps))
		smpptest.Eventually(t, 3*reloadPoll+2*time.Second, 20*time.Millisecond, func() error {
			if got := r.metric(t, `smpp_operator_tps_limit{operator="mno-a"}`); got != float64(tps) {
				return fmt.Errorf("TPS limit %v, want %d", got, tps)
			}
			return nil
		})
		t.Logf("TPS %d applied %s after the file changed (poll %s)", tps, time.Since(wrote).Round(time.Millisecond), reloadPoll)
	}
	phase := func(tps, contract int) {
		t.Helper()
		if down := contract < 100; down {
			applied(tps)
			sim.Meter.Reset()
			sim.Meter.SetLimit("mno-a/acme", contract)
			return
		}
		sim.Meter.Reset()
		sim.Meter.SetLimit("mno-a/acme", contract)
		applied(tps)
	}
	check := func(contract, atLeast int) {
		t.Helper()
		before := submitted()
		time.Sleep(3 * time.Second) // a span of traffic to audit, not a wait for an event
		rep, _ := sim.Meter.Report("mno-a/acme", time.Now())
		if rep.Breaches != 0 || rep.WorstSlidingWindow > contract {
			t.Errorf("contract %d: %+v", contract, rep)
		}
		if rep.WorstSlidingWindow < atLeast || submitted() == before {
			t.Errorf("contract %d: worst second %d (want at least %d): the traffic did not flow at the rate allowed", contract, rep.WorstSlidingWindow, atLeast)
		}
	}
	phase(18, 20)
	check(20, 10)
	phase(90, 100)
	check(100, 50)
	// A larger window needs a new term (its consumer sized for it): the
	// binds drain and bind again under the lease while the backlog flows;
	// nothing is lost or sent twice (the count below), the contract held.
	window = 40
	rewrite(entry(90))
	smpptest.Eventually(t, 3*reloadPoll+2*time.Second, 20*time.Millisecond, func() error {
		if got := r.metric(t, `smpp_config_changes_total{change="new_term",operator="mno-a"}`); got != 1 {
			return fmt.Errorf("new terms %v, want 1", got)
		}
		return nil
	})
	check(100, 50)

	smpptest.Eventually(t, 30*time.Second, 100*time.Millisecond, func() error {
		if s := submitted(); s != n {
			return fmt.Errorf("%d of %d submitted", s, n)
		}
		return nil
	})
	if got := r.metric(t, `smpp_config_reloads_total{result="applied"}`); got != 3 {
		t.Errorf("%v reloads applied, want 3", got)
	}
	if got := r.metric(t, `smpp_config_changes_total{change="in_place",operator="mno-a"}`); got != 2 {
		t.Errorf("%v in-place changes, want 2", got)
	}
}

// An operator added to the file starts (its commands, waiting since before,
// are sent), one removed drains and stops (its commands wait in JetStream,
// not dead-lettered: a replica listed it lately), and a broken file is
// refused as a whole while the running configuration carries on.
func TestReloadAddsAndRemovesOperators(t *testing.T) {
	acct := []server.AccountConfig{{SystemID: "acme", Password: "pw"}}
	sim := startSim(t, server.OperatorConfig{ID: "mno-a", Listen: "127.0.0.1:0", Accounts: acct},
		server.OperatorConfig{ID: "mno-b", Listen: "127.0.0.1:0", Accounts: acct})
	opA, _ := sim.Operator("mno-a")
	opB, _ := sim.Operator("mno-b")
	a := fmt.Sprintf("  - id: mno-a\n    endpoints: {primary: [{address: %q}]}\n    tps: 200\n", opA.Addr())
	b := fmt.Sprintf("  - id: mno-b\n    endpoints: {primary: [{address: %q}]}\n    tps: 200\n", opB.Addr())
	path, rewrite := opsFile(t, "operators:\n"+a)
	ops, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	svc := testService(t)
	svc.OperatorsFile, svc.OperatorsReload = path, reloadPoll
	r := startConnector(t, svc, ops, Options{Secrets: staticSource{secrets.Credential{SystemID: "acme", Password: "pw", Version: "1"}},
		StrayEvery: 5 * time.Second})
	nc, _ := nats.Connect(svc.NATS.URL)
	defer nc.Close()
	js, _ := jetstream.New(nc)
	submits := func(op string) uint64 { return sim.Stats().Sum(op, "acme", "submit_sm", "") }

	publish(t, js, "mno-a", "a1", 20)
	// No replica runs mno-b yet: its commands wait. (Were they older than
	// the strays' MinAge, 3 × StrayEvery = 15 s, before it is added, no
	// replica having listed it, they would be dead-lettered as unknown.)
	publish(t, js, "mno-b", "b1", 20)
	smpptest.Eventually(t, 15*time.Second, 50*time.Millisecond, func() error {
		if s := submits("mno-a"); s != 20 {
			return fmt.Errorf("%d of 20 mno-a submitted", s)
		}
		return nil
	})
	versionBefore := r.metricWithPrefix(t, "smpp_config_info{")

	rewrite("operators:\n" + a + b)
	smpptest.Eventually(t, 15*time.Second, 50*time.Millisecond, func() error {
		if s := submits("mno-b"); s != 20 {
			return fmt.Errorf("%d of 20 mno-b submitted after it was added", s)
		}
		return nil
	})
	if v := r.metricWithPrefix(t, "smpp_config_info{"); v == versionBefore {
		t.Errorf("smpp_config_info still %s after the reload", v)
	}
	if got := r.metric(t, `smpp_unknown_operator_commands_total{operator="mno-b"}`); got > 0 {
		t.Errorf("%v mno-b commands dead-lettered as unknown", got)
	}

	rewrite("operators:\n" + b)
	smpptest.Eventually(t, 15*time.Second, 50*time.Millisecond, func() error {
		for _, s := range sim.Sessions() {
			if s.Operator == "mno-a" {
				return fmt.Errorf("mno-a still bound after it was removed")
			}
		}
		return nil
	})
	publish(t, js, "mno-a", "a2", 5)
	// Observed: the strays sweep found mno-a's commands and left them for a
	// replica that listed it lately.
	smpptest.Eventually(t, 30*time.Second, 50*time.Millisecond, func() error {
		if got := r.metric(t, `smpp_stray_operator_last_listed_seconds{operator="mno-a"}`); got < 0 {
			return fmt.Errorf("mno-a's waiting commands not looked at yet")
		}
		return nil
	})
	if s, dl := submits("mno-a"), r.metric(t, `smpp_unknown_operator_commands_total{operator="mno-a"}`); s != 20 || dl > 0 {
		t.Errorf("mno-a removed: %d submitted (want the 20 from before), %v dead-lettered (want none)", s, dl)
	}

	// A broken file: refused, said, counted; mno-b carries on.
	rewrite("operators:\n  - id: mno-b\n    tps: -1\n")
	smpptest.Eventually(t, 15*time.Second, 50*time.Millisecond, func() error {
		if got := r.metric(t, "smpp_config_refused"); got != 1 {
			return fmt.Errorf("smpp_config_refused %v", got)
		}
		return nil
	})
	v := r.readyz(t)
	if degraded, _ := v["degraded"].(map[string]any); v["ready"] != true || !strings.Contains(fmt.Sprint(degraded["operators configuration"]), "tps") {
		t.Errorf("readiness with the file refused: %v; want ready, degraded naming the refused field", v)
	}
	publish(t, js, "mno-b", "b2", 5)
	smpptest.Eventually(t, 15*time.Second, 50*time.Millisecond, func() error {
		if s := submits("mno-b"); s != 25 {
			return fmt.Errorf("%d of 25 mno-b submitted with the file refused", s)
		}
		return nil
	})
	rewrite("operators:\n" + b)
	smpptest.Eventually(t, 15*time.Second, 50*time.Millisecond, func() error {
		if got := r.metric(t, "smpp_config_refused"); got != 0 {
			return fmt.Errorf("smpp_config_refused %v after the file was fixed", got)
		}
		return nil
	})
	if got := r.metric(t, `smpp_config_reloads_total{result="refused"}`); got != 1 {
		t.Errorf("%v reloads refused, want 1", got)
	}
}

// metricWithPrefix returns the first sample line starting with prefix.
func (r *replica) metricWithPrefix(t *testing.T, prefix string) string {
	t.Helper()
	resp, err := http.Get("http://" + r.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(prefix) + `.*$`).FindString(string(b))
}
