package service

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/secrets"
	"github.com/smpp-connector/smpp-connector/internal/testutil"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
)

// BenchmarkConnectorEndToEnd measures the whole path on one operator, one
// bind, window 100, TPS uncapped: commands published on JetStream, the
// connector submitting to the simulator, receipts back and published on
// sms.dlr.inbound, PostgreSQL in a container. The connector runs as its own
// process (bin smpp-connector, built here), as deployed; NATS and the
// simulator run in the test process. b.N messages; it reports messages/s
// (first publish to last receipt event), receipt latency p50/p99 (submit to
// receipt, from the events), submit_sm_resp latency p50/p99 (upper bounds of
// the connector's histogram buckets), the connector's peak RSS and CPU, and
// the store's batch size and time per batch.
//
// The connector serves /debug/pprof/ here: with SMPP_BENCH_PROFILE=1 the
// benchmark prints its address at the start, to profile it while it runs
// with `go tool pprof http://ADDR/debug/pprof/profile?seconds=5`. SMPP_BENCH_CONNECTOR=inprocess
// runs the connector inside the test process instead, so that -cpuprofile
// sees it (RSS and CPU are then the whole process's).
func BenchmarkConnectorEndToEnd(b *testing.B) {
	sim := startSim(b, server.OperatorConfig{ID: "mno-a", Listen: "127.0.0.1:0",
		Accounts: []server.AccountConfig{{SystemID: "acme", Password: "pw"}}})
	op, _ := sim.Operator("mno-a")
	svc := testService(b)
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
	nc, _ := nats.Connect(svc.NATS.URL)
	defer nc.Close()
	js, _ := jetstream.New(nc)
	waitReady(b, conn)
	cpu0 := cpuSeconds(conn.pid)

	b.ResetTimer()
	start := time.Now()
	go func() {
		for i := 0; i < b.N; i++ {
			cmd := fmt.Sprintf(`{"messageId":"b-%d","operatorId":"mno-a","source":{"addr":"ACME","ton":5,"npi":0},`+
				`"destination":{"addr":"447700900123","ton":1,"npi":1},"text":"benchmark","registeredDelivery":true}`, i)
			if _, err := js.PublishAsync(natscontract.DispatchSubjectFor("mno-a"), []byte(cmd)); err != nil {
				b.Error(err)
				return
			}
		}
	}()
	cons, err := js.OrderedConsumer(context.Background(), natscontract.ReceiptStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		b.Fatal(err)
	}
	var lat []float64
	last := time.Now()
	for len(lat) < b.N {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			b.Fatal(err)
		}
		for m := range batch.Messages() {
			var r struct{ SubmittedAt, ReceivedAt time.Time }
			json.Unmarshal(m.Data(), &r)
			lat = append(lat, r.ReceivedAt.Sub(r.SubmittedAt).Seconds())
			last = time.Now()
		}
		if time.Since(last) > 30*time.Second {
			b.Fatalf("stalled at %d of %d receipts", len(lat), b.N)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := cpuSeconds(conn.pid) - cpu0
	sort.Float64s(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msg/s")
	b.ReportMetric(lat[len(lat)/2]*1000, "receipt-p50-ms")
	b.ReportMetric(lat[len(lat)*99/100]*1000, "receipt-p99-ms")
	metricsURL := "http://" + conn.http + "/metrics"
	p50, p99 := histogramQuantiles(b, metricsURL, "smpp_submit_latency_seconds")
	b.ReportMetric(p50*1000, "submit-p50-ms")
	b.ReportMetric(p99*1000, "submit-p99-ms")
	b.ReportMetric(peakRSSMB(conn.pid), "connector-peak-RSS-MB")
	b.ReportMetric(100*cpu/elapsed.Seconds(), "connector-CPU-%")
	if batches := scalarMetric(b, metricsURL, "smpp_store_batches_total"); batches > 0 {
		b.ReportMetric(scalarMetric(b, metricsURL, "smpp_store_requests_total")/batches, "store-requests/batch")
		b.ReportMetric(scalarMetric(b, metricsURL, "smpp_store_flush_seconds_total")*1000/batches, "store-ms/batch")
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

// histogramQuantiles reads a Prometheus histogram and returns the upper
// bounds of the buckets holding its 50th and 99th percentiles.
func histogramQuantiles(b *testing.B, url, name string) (float64, float64) {
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	type bucket struct{ le, n float64 }
	var bs []bucket
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"_bucket{") {
			continue
		}
		i := strings.Index(line, `le="`)
		le := line[i+4 : i+4+strings.IndexByte(line[i+4:], '"')]
		v, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		f, _ := strconv.ParseFloat(le, 64)
		if le == "+Inf" {
			f = 1e9
		}
		bs = append(bs, bucket{f, v})
	}
	if len(bs) == 0 {
		return 0, 0
	}
	total := bs[len(bs)-1].n
	q := func(p float64) float64 {
		for _, x := range bs {
			if x.n >= p*total {
				return x.le
			}
		}
		return 0
	}
	return q(0.5), q(0.99)
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

// cpuSeconds is the user+system CPU time a process has used.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) start at ")".
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // USER_HZ
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
