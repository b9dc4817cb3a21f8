package service

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/natsjs"
	"github.com/smpp-connector/smpp-connector/connector/secrets"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
)

// BenchmarkConnectorEndToEnd measures the whole path on one operator, one
// bind, window 100, TPS uncapped: commands published on JetStream, the
// connector (PostgreSQL in a container) submitting to the simulator, receipts
// back and published on sms.dlr.inbound. b.N messages; it reports messages/s
// (first publish to last receipt event), receipt latency p50/p99 (submit to
// receipt, from the events), submit_sm_resp latency p50/p99 (from the
// connector's histogram) and the test process's peak RSS (connector,
// simulator and NATS together).
func BenchmarkConnectorEndToEnd(b *testing.B) {
	sim, err := server.New(server.Config{Operators: []server.OperatorConfig{{ID: "mno-a", Listen: "127.0.0.1:0",
		Accounts: []server.AccountConfig{{SystemID: "acme", Password: "pw"}}}}}, quiet())
	if err != nil {
		b.Fatal(err)
	}
	if err := sim.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	op, _ := sim.Operator("mno-a")
	ops, err := config.Parse([]byte(fmt.Sprintf("operators:\n  - id: mno-a\n    endpoints: {primary: [{address: %q}]}\n    tps: 1000000\n    window: 100\n", op.Addr())))
	if err != nil {
		b.Fatal(err)
	}
	ns, err := natsjs.StartEmbedded("127.0.0.1", -1, "")
	if err != nil {
		b.Fatal(err)
	}
	defer ns.Shutdown()
	svc := config.DefaultService()
	svc.NATS.URL, svc.NATS.CreateStreams = ns.URL(), true
	svc.PostgresDSN, svc.HTTPListen = env.FreshDatabase(b, false), "127.0.0.1:0"
	cred := staticSource{secrets.Credential{SystemID: "acme", Password: "pw", Version: "1"}}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	var httpAddr string
	go func() {
		done <- Run(ctx, svc, ops, Options{Log: quiet(), Migrate: true, Ready: ready, Secrets: cred, HTTPAddr: func(a string) { httpAddr = a }})
	}()
	select {
	case <-ready:
	case err := <-done:
		b.Fatalf("connector: %v", err)
	}
	defer func() { cancel(); <-done }()
	nc, _ := nats.Connect(ns.URL())
	defer nc.Close()
	js, _ := jetstream.New(nc)
	time.Sleep(500 * time.Millisecond) // bind

	b.ResetTimer()
	start := time.Now()
	go func() {
		for i := 0; i < b.N; i++ {
			cmd := fmt.Sprintf(`{"messageId":"b-%d","operatorId":"mno-a","source":{"addr":"ACME","ton":5,"npi":0},`+
				`"destination":{"addr":"447700900123","ton":1,"npi":1},"text":"benchmark","registeredDelivery":true}`, i)
			if _, err := js.PublishAsync(natsjs.DispatchSubjectFor("mno-a"), []byte(cmd)); err != nil {
				b.Error(err)
				return
			}
		}
	}()
	cons, err := js.OrderedConsumer(context.Background(), natsjs.ReceiptStream, jetstream.OrderedConsumerConfig{})
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
	sort.Float64s(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msg/s")
	b.ReportMetric(lat[len(lat)/2]*1000, "receipt-p50-ms")
	b.ReportMetric(lat[len(lat)*99/100]*1000, "receipt-p99-ms")
	p50, p99 := histogramQuantiles(b, "http://"+httpAddr+"/metrics", "smpp_submit_latency_seconds")
	b.ReportMetric(p50*1000, "submit-p50-ms")
	b.ReportMetric(p99*1000, "submit-p99-ms")
	b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
	metricsURL := "http://" + httpAddr + "/metrics"
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

func peakRSSMB() float64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			kb, _ := strconv.ParseFloat(strings.Fields(l)[1], 64)
			return kb / 1024
		}
	}
	return 0
}
