package service

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/secrets"
	"github.com/smpp-connector/smpp-connector/internal/testutil"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
)

// BenchmarkConnectorEndToEnd measures the whole path on one operator, one
// bind, window 100, TPS uncapped: commands published on JetStream, the
// connector submitting to the simulator, receipts back and published on
// sms.dlr.inbound, PostgreSQL in a container. The connector runs as its own
// process (bin smpp-connector, built here), as deployed; the simulator and
// the load run in the test process, NATS too unless SMPP_BENCH_PROCESSES=1
// (then NATS is a process of its own and PostgreSQL flushes every commit).
// b.N messages, published as fast as possible or at SMPP_BENCH_RATE a second,
// on a correlation table holding SMPP_BENCH_HISTORY rows of earlier days
// (default 200,000, as a deployment in service: seedHistory).
//
// It reports (units parsed by scripts: keep them): msg/s, first publish to
// last receipt event; submit-p50/p99-ms, submit_sm to submit_sm_resp as the
// connector saw them (per message: the outcome event's time minus the
// receipt event's submittedAt); dlr-resp-p50/p99-ms, deliver_sm to
// deliver_sm_resp as the simulator saw them; event-p50/p99-ms, submit to
// receipt (the receipt event's receivedAt minus its submittedAt);
// event-out-p50/p99-ms, submit to the receipt event stored in JetStream
// (its stream timestamp: after the store and the outbox relay); CPU
// milliseconds per message of the connector, PostgreSQL (its container's
// cgroup), NATS and their sum (the last two with SMPP_BENCH_PROCESSES=1), and
// of the test process; the connector's peak RSS and CPU share; the store's
// batch size and time per batch.
//
// The connector serves /debug/pprof/ here: with SMPP_BENCH_PROFILE=1 the
// benchmark prints its address at the start, to profile it while it runs
// with `go tool pprof http://ADDR/debug/pprof/profile?seconds=5`. SMPP_BENCH_CONNECTOR=inprocess
// runs the connector inside the test process instead, so that -cpuprofile
// sees it (RSS and CPU are then the whole process's).
func BenchmarkConnectorEndToEnd(b *testing.B) {
	rate := benchRate(b)
	sim := startSim(b, server.OperatorConfig{ID: "mno-a", Listen: "127.0.0.1:0",
		Accounts: []server.AccountConfig{{SystemID: "acme", Password: "pw"}}})
	op, _ := sim.Operator("mno-a")
	var svc config.Service
	natsPID := 0
	if benchProcesses() {
		ns := startNATSProcess(b)
		natsPID = ns.pid
		svc = config.DefaultService()
		svc.NATS.URL, svc.NATS.CreateStreams = ns.url, true
		svc.PostgresDSN, svc.HTTPListen = env.FreshDatabase(b, false), "127.0.0.1:0"
		requireDurable(b, svc.PostgresDSN)
	} else {
		svc = testService(b)
	}
	seedHistory(b, svc.PostgresDSN)
	operators := fmt.Sprintf("operators:\n  - id: mno-a\n    endpoints: {primary: [{address: %q}]}\n    tps: 1000000\n    window: 100\n", op.Addr())

	var conn *connectorUnderTest
	if os.Getenv("SMPP_BENCH_CONNECTOR") == "inprocess" {
		conn = startConnectorInProcess(b, operators, svc)
	} else {
		conn = startConnectorProcess(b, operators, svc)
	}
	defer conn.stop(b)
	if os.Getenv("SMPP_BENCH_PROFILE") != "" {
		// Now, for a profiler (b.Logf waits for the end); it breaks the result line.
		fmt.Fprintf(os.Stderr, "connector: http://%s (pid %d)\n", conn.http, conn.pid)
	}
	nc, err := nats.Connect(svc.NATS.URL)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	waitReady(b, conn)
	cpu0, test0 := readCPU(b, conn.pid, natsPID), cpuSeconds(os.Getpid())
	db0, statements := readDBWork(b, svc.PostgresDSN), resetStatements(b, svc.PostgresDSN)
	sim.DeliverResp.Reset()

	b.ResetTimer()
	start := time.Now()
	go publishCommands(b, js, b.N, rate)
	rc, last := collectReceipts(b, js, b.N)
	elapsed := last.Sub(start)
	b.StopTimer()
	testCPU := cpuSeconds(os.Getpid()) - test0
	// Once every outcome event is out too, the processes have done all the
	// run's work: their CPU is read then.
	submit := submitLatencies(b, js, rc.submitted, b.N)
	cpu := readCPU(b, conn.pid, natsPID).sub(cpu0)
	time.Sleep(1100 * time.Millisecond) // the backends' statistics reach pg_stat_database within a second
	db := readDBWork(b, svc.PostgresDSN).sub(db0)
	if statements {
		printStatements(b, svc.PostgresDSN, b.N)
	}

	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msg/s")
	if rate > 0 {
		// At a rate the path keeps up with, the last receipt follows the last
		// command by about one latency; a backlog shows as a long tail here.
		drain := elapsed - time.Duration(b.N-1)*time.Second/time.Duration(rate)
		b.Logf("%s=%d: the last receipt event came %v after the last command was due", envBenchRate, rate, drain.Round(time.Millisecond))
	}
	reportQuantiles(b, submit, "submit")
	dr := sim.DeliverResp.Summary()
	if dr.Count != uint64(b.N) {
		b.Logf("%d deliver_sm_resp timed for %d messages (a receipt resent after a rebind counts again)", dr.Count, b.N)
	}
	b.ReportMetric(ms(dr.P50), "dlr-resp-p50-ms")
	b.ReportMetric(ms(dr.P99), "dlr-resp-p99-ms")
	reportQuantiles(b, rc.latency, "event")
	reportQuantiles(b, rc.out, "event-out")
	perMsg := func(sec float64) float64 { return sec * 1000 / float64(b.N) }
	b.ReportMetric(perMsg(cpu.connector), "cpu-ms/msg-connector")
	if cpu.postgres > 0 {
		b.ReportMetric(perMsg(cpu.postgres), "cpu-ms/msg-postgres")
	}
	if natsPID != 0 {
		b.ReportMetric(perMsg(cpu.nats), "cpu-ms/msg-nats")
		b.ReportMetric(perMsg(cpu.connector+cpu.nats+cpu.postgres), "cpu-ms/msg-total")
	}
	b.ReportMetric(perMsg(testCPU), "cpu-ms/msg-test-process")
	b.ReportMetric(float64(db.commits)/float64(b.N), "pg-commits/msg")
	b.ReportMetric(db.walBytes/1024/float64(b.N), "pg-wal-kB/msg")
	b.ReportMetric(peakRSSMB(conn.pid), "connector-peak-RSS-MB")
	b.ReportMetric(100*cpu.connector/elapsed.Seconds(), "connector-CPU-%")
	metricsURL := "http://" + conn.http + "/metrics"
	if batches := scalarMetric(b, metricsURL, "smpp_store_batches_total"); batches > 0 {
		b.ReportMetric(scalarMetric(b, metricsURL, "smpp_store_requests_total")/batches, "store-requests/batch")
		b.ReportMetric(scalarMetric(b, metricsURL, "smpp_store_flush_seconds_total")*1000/batches, "store-ms/batch")
	}
	if appends := scalarMetric(b, metricsURL, "smpp_store_inbox_appends_total"); appends > 0 {
		b.ReportMetric(scalarMetric(b, metricsURL, "smpp_store_inbox_appended_total")/appends, "receipts/append")
		b.ReportMetric(scalarMetric(b, metricsURL, "smpp_store_inbox_append_seconds_total")*1000/appends, "ms/append")
	}
}

// scalarMetric reads an unlabelled counter or gauge from a Prometheus endpoint.
func scalarMetric(b *testing.B, url, name string) float64 {
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

type staticSource struct{ c secrets.Credential }

func (s staticSource) Get(context.Context, string) (secrets.Credential, error) { return s.c, nil }
func (s staticSource) Watch(ctx context.Context, _ string, _ time.Duration) <-chan secrets.Credential {
	ch := make(chan secrets.Credential)
	go func() { <-ctx.Done(); close(ch) }()
	return ch
}

// peakRSSMB is a process's peak resident set (VmHWM).
func peakRSSMB(pid int) float64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			kb, _ := strconv.ParseFloat(strings.Fields(l)[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// connectorUnderTest is a running connector: its HTTP address and process.
type connectorUnderTest struct {
	http   string
	pid    int
	exited <-chan error  // the process ended (nil in process)
	logs   func() string // what it wrote (nil in process)
	stop   func(testing.TB)
}

// startConnectorProcess builds cmd/smpp-connector and runs it with the
// operators file, credentials from a rendered file, and the settings in its
// environment, as a deployment would.
func startConnectorProcess(b testing.TB, operators string, svc config.Service) *connectorUnderTest {
	dir := b.TempDir()
	bin := filepath.Join(dir, "smpp-connector")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/smpp-connector/smpp-connector/cmd/smpp-connector").CombinedOutput(); err != nil {
		b.Fatalf("build smpp-connector: %v\n%s", err, out)
	}
	cred := filepath.Join(dir, "mno-a.json")
	opsFile := filepath.Join(dir, "operators.yaml")
	if err := os.WriteFile(cred, []byte(`{"system_id": "acme", "password": "pw"}`), 0o600); err != nil {
		b.Fatal(err)
	}
	operators += fmt.Sprintf("    credentials: {file: %q}\n", cred)
	if err := os.WriteFile(opsFile, []byte(operators), 0o600); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	httpAddr := ln.Addr().String()
	ln.Close()
	logs := &testutil.LogBuffer{}
	cmd := exec.Command(bin, "run", "-migrate")
	cmd.Env = append(os.Environ(), "SMPP_OPERATORS_FILE="+opsFile, "SMPP_NATS_URL="+svc.NATS.URL, "SMPP_NATS_CREATE_STREAMS=true",
		"SMPP_POSTGRES_DSN="+svc.PostgresDSN, "SMPP_HTTP_LISTEN="+httpAddr, "SMPP_LOG_LEVEL=warn", "SMPP_PPROF=true")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	return &connectorUnderTest{http: httpAddr, pid: cmd.Process.Pid, exited: exited, logs: logs.String, stop: func(t testing.TB) {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("connector did not shut down cleanly: %v\n%s", err, logs.String())
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("connector still running 30s after SIGTERM\n%s", logs.String())
		}
	}}
}

// startConnectorInProcess runs the connector in the test process.
func startConnectorInProcess(b *testing.B, operators string, svc config.Service) *connectorUnderTest {
	ops, err := config.Parse([]byte(operators))
	if err != nil {
		b.Fatal(err)
	}
	r := startConnector(b, svc, ops, Options{Secrets: staticSource{secrets.Credential{SystemID: "acme", Password: "pw", Version: "1"}}})
	return &connectorUnderTest{http: r.http, pid: os.Getpid(), stop: func(testing.TB) { r.stop() }}
}

// waitReady polls the connector's /readyz until it answers 200 and owns the
// operator (every bind up), and fails at once, with its output, if the
// process ends.
func waitReady(b testing.TB, c *connectorUnderTest) {
	url := "http://" + c.http + "/readyz"
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-c.exited:
			b.Fatalf("connector exited before it was ready: %v\n%s", err, c.logs())
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			// Ready and owning the operator (not standing by for it).
			var v struct{ Standby []string }
			if resp.StatusCode == http.StatusOK && json.Unmarshal(body, &v) == nil && len(v.Standby) == 0 {
				return
			}
			err = fmt.Errorf("%s: %s", resp.Status, body)
		}
		if time.Now().After(deadline) {
			b.Fatalf("connector not ready after 30s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
