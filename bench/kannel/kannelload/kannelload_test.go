package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSMSBox stands in for smsbox's sendsms interface (the real one is what
// compare.sh measures): it answers 202 like smsbox and calls the dlr-url back
// with Kannel's %d replaced, first with an intermediate type (8, "delivered to
// SMSC") that must not count, then with each of finals.
func fakeSMSBox(t *testing.T, finals ...string) *httptest.Server {
	var wg sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("username") != "u" || q.Get("password") != "p" || q.Get("dlr-mask") != "19" || q.Get("text") != "benchmark" {
			http.Error(w, "Authorization failed for sendsms", http.StatusForbidden)
			return
		}
		dlr := q.Get("dlr-url")
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte("0: Accepted for delivery"))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, typ := range append([]string{"8"}, finals...) {
				resp, err := http.Get(strings.Replace(dlr, "%d", typ, 1))
				if err != nil {
					if i < 2 { // later ones may find the run over
						t.Error(err)
					}
					return
				}
				resp.Body.Close()
			}
		}()
	}))
	t.Cleanup(func() { wg.Wait(); srv.Close() })
	return srv
}

func testConfig(url string, n int) runConfig {
	return runConfig{SendSMS: url + "/cgi-bin/sendsms", User: "u", Pass: "p", From: "ACME", To: "447700900123", Text: "benchmark",
		N: n, Concurrency: 8, DLRMask: 19, DLRListen: "127.0.0.1:0", Idle: 10 * time.Second,
		PIDs: []namedPID{{"self", os.Getpid()}}}
}

func TestRunCountsOneFinalDLRPerMessage(t *testing.T) {
	srv := fakeSMSBox(t, "1", "2") // a second final callback is a duplicate
	var logs bytes.Buffer
	res, err := runLoad(context.Background(), testConfig(srv.URL, 200), &logs)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	if res.Missing != 0 || res.Rejected != 0 {
		t.Fatalf("missing %d, rejected %d: %s", res.Missing, res.Rejected, logs.String())
	}
	if res.DLRTypes["8"] != 200 || res.DLRTypes["1"] != 200 {
		t.Errorf("DLR types %v, want 200 of 8 and of 1", res.DLRTypes)
	}
	if res.MsgPerS <= 0 || res.ElapsedS <= 0 || res.DLRP99Ms < res.DLRP50Ms || res.DLRP50Ms <= 0 {
		t.Errorf("figures %+v", res)
	}
	if _, ok := res.CPUMsPerMsg["self"]; !ok || res.CPUMsPerMsg["total"] != res.CPUMsPerMsg["self"] {
		t.Errorf("CPU %v", res.CPUMsPerMsg)
	}
}

func TestRunReportsRejectedRequestsAsMissing(t *testing.T) {
	srv := fakeSMSBox(t, "1")
	cfg := testConfig(srv.URL, 20)
	cfg.Pass = "wrong"
	var logs bytes.Buffer
	res, err := runLoad(context.Background(), cfg, &logs)
	if err == nil || res.Rejected != 20 || res.Missing != 20 {
		t.Fatalf("err %v, rejected %d, missing %d", err, res.Rejected, res.Missing)
	}
	if !strings.Contains(logs.String(), "403") {
		t.Errorf("the refusal is not shown: %q", logs.String())
	}
}

func TestPacedRunSpansItsSchedule(t *testing.T) {
	srv := fakeSMSBox(t, "1")
	cfg := testConfig(srv.URL, 21)
	cfg.Rate = 200 // the last request is due 100 ms after the first
	res, err := runLoad(context.Background(), cfg, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Missing != 0 || res.ElapsedS < 0.1 {
		t.Errorf("missing %d, elapsed %.3fs: the schedule was not kept", res.Missing, res.ElapsedS)
	}
}

func TestKannelReadyWantsAnOnlineSMSCAndAnSMSBox(t *testing.T) {
	const page = "Status: running\n\nBox connections:\n%s\n\nSMSC connections:\n    sim[sim]    SMPP:127.0.0.1:2775/2775:acme:VMA (%s, rcvd: sms 0)\n"
	cases := []struct {
		box, smsc string
		want      bool
	}{
		{"    smsbox:(none), IP 127.0.0.1 (0 queued), (on-line 0d 0h 0m 1s)", "online 3s", true},
		{"", "online 3s", false},
		{"    smsbox:(none), IP 127.0.0.1", "connecting", false},
		{"    smsbox:(none), IP 127.0.0.1", "re-connecting", false},
	}
	for _, c := range cases {
		if ok, why := kannelReady(strings.Replace(strings.Replace(page, "%s", c.box, 1), "%s", c.smsc, 1), true); ok != c.want {
			t.Errorf("box %q smsc %q: ready %v (%s), want %v", c.box, c.smsc, ok, why, c.want)
		}
	}
	if ok, _ := kannelReady("Box connections:\n\nSMSC connections:\n  x (online 1s)", false); !ok {
		t.Error("without -smsbox an online SMSC is enough")
	}
}

func TestParseBenchReadsEveryUnit(t *testing.T) {
	out := "goos: linux\nBenchmarkConnectorEndToEnd starting\n" +
		"BenchmarkConnectorEndToEnd-2   \t   20000\t    291234 ns/op\t      3412 msg/s\t        35.5 event-p99-ms\t     0.412 cpu-ms/msg-total\n" +
		"PASS\n"
	m := parseBench(out, "BenchmarkConnectorEndToEnd")
	want := map[string]float64{"ns/op": 291234, "msg/s": 3412, "event-p99-ms": 35.5, "cpu-ms/msg-total": 0.412}
	if len(m) != len(want) {
		t.Fatalf("got %v", m)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if parseBench("--- FAIL: BenchmarkConnectorEndToEnd\nFAIL\n", "BenchmarkConnectorEndToEnd") != nil {
		t.Error("a failure parsed as a result")
	}
}

func TestTableComparesPairsAndJudgesTheGoals(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	kannel := func(msgs, p99, cpu, rate float64) string {
		b, _ := json.Marshal(result{MsgPerS: msgs, DLRP50Ms: p99 / 2, DLRP99Ms: p99, Rate: rate, CPUMsPerMsg: map[string]float64{"total": cpu}})
		return string(b)
	}
	up := " 04:10:00 up 1:00,  0 user,  load average: 1.50, 1.20, 1.00\n"
	for _, p := range []string{"1", "2", "3"} {
		write("kannel-max-"+p+".json", kannel(1000, 900, 1.0, 0))
		write("kannel-max-"+p+".uptime", up)
		write("ours-max-"+p+".uptime", up)
		write("kannel-steady-"+p+".json", kannel(1000, 50, 1.0, 1000))
	}
	write("kannel-max-1.during", "95 bearerbox\n60 smsbox\n40 kannelload\n30 compile\n")
	write("ours-max-1.during", "80 smpp-connector\n50 postgres\n")
	write("ours-max-1.txt", "BenchmarkConnectorEndToEnd-2 20000 1 ns/op 1400 msg/s 300 event-p99-ms 0.5 cpu-ms/msg-total\n")
	write("ours-max-2.txt", "BenchmarkConnectorEndToEnd-2 20000 1 ns/op 1600 msg/s 300 event-p99-ms 0.6 cpu-ms/msg-total\n")
	write("ours-max-3.txt", "--- FAIL: BenchmarkConnectorEndToEnd\n    stalled at 10 of 20000 receipts\nFAIL\n")
	for _, p := range []string{"1", "2", "3"} {
		write("ours-steady-"+p+".txt", "BenchmarkConnectorEndToEnd-2 20000 1 ns/op 999 msg/s 40 event-p99-ms 45 event-out-p99-ms 0.4 cpu-ms/msg-total\n")
	}
	runs, err := loadRuns(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	printTable(&out, runs)
	s := out.String()
	for _, want := range []string{
		"ours/Kannel msg/s 1.50 (goal >= 1.5): met",    // median of 1.4 and 1.6; the failed pair does not count
		"ours/Kannel 0.55 (goal <= 0.7; ours = total)", // median of 0.5 and 0.6
		"ours 45.0 ms (event-out; at the connector 40.0 ms) vs Kannel DLR 50.0 ms (goal: ours <= Kannel): met",
		"stalled at 10 of 20000 receipts",
		"04:10:00 1.50, 1.20, 1.00",
		"during pair 1 (mean % of one core per command): Kannel run: bearerbox 95%, smsbox 60%, kannelload 40%, compile 30%; our run: smpp-connector 80%, postgres 50%",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("table lacks %q:\n%s", want, s)
		}
	}
}

func TestTableTrustsTheMarkerOfAnUnpacedRun(t *testing.T) {
	dir := t.TempDir()
	b, _ := json.Marshal(result{MsgPerS: 1000, DLRP99Ms: 50, Rate: 1000})
	os.WriteFile(filepath.Join(dir, "kannel-steady-1.json"), b, 0o644)
	slow := "BenchmarkConnectorEndToEnd-2 20000 1 ns/op 800 msg/s 40 event-p99-ms\ncompare.sh: " + unpacedMarker + "\n"
	os.WriteFile(filepath.Join(dir, "ours-steady-1.txt"), []byte(slow), 0o644)
	runs, err := loadRuns(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	printTable(&out, runs)
	if !strings.Contains(out.String(), "ignored SMPP_BENCH_RATE") {
		t.Errorf("a run slower than the rate passes for paced:\n%s", out.String())
	}
}

func TestTableSaysWhenOurRunWasNotPacedOrCPUIsPartial(t *testing.T) {
	dir := t.TempDir()
	b, _ := json.Marshal(result{MsgPerS: 1000, DLRP99Ms: 50, Rate: 1000, CPUMsPerMsg: map[string]float64{"total": 1}})
	os.WriteFile(filepath.Join(dir, "kannel-steady-1.json"), b, 0o644)
	os.WriteFile(filepath.Join(dir, "kannel-max-1.json"), b, 0o644)
	old := "BenchmarkConnectorEndToEnd-2 20000 1 ns/op 3000 msg/s 400 receipt-p99-ms 60 connector-CPU-%\n"
	os.WriteFile(filepath.Join(dir, "ours-steady-1.txt"), []byte(old), 0o644)
	os.WriteFile(filepath.Join(dir, "ours-max-1.txt"), []byte(old), 0o644)
	runs, err := loadRuns(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	printTable(&out, runs)
	for _, want := range []string{"ignored SMPP_BENCH_RATE", "connector only (from CPU %)", "(receipt;", "ours/Kannel 0.20", "not judged"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}
