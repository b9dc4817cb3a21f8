package service

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/lease"
	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/secrets"
	"github.com/smpp-connector/smpp-connector/internal/testutil"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

var env *testenv.TestEnv

func TestMain(m *testing.M) {
	if benchProcesses() {
		// The benchmark's processes mode measures production's durability.
		os.Setenv(testenv.EnvPostgresDurable, "1")
	}
	os.Exit(testenv.RunWithServices(m, testenv.Services{Postgres: true}, &env))
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestServiceEndToEnd runs the whole connector: two operators with different
// quirks on the simulator, credentials from rendered files, a real
// PostgreSQL, an embedded NATS server; then a rotation and a shutdown.
func TestServiceEndToEnd(t *testing.T) {
	sim := startSim(t,
		server.OperatorConfig{ID: "mno-a", Listen: "127.0.0.1:0", Accounts: []server.AccountConfig{{SystemID: "acme", Password: "pw-a1", TPS: 100}}},
		server.OperatorConfig{ID: "mno-b", Listen: "127.0.0.1:0", Profile: profile.Profile{
			MessageID: profile.IDFormat{Format: profile.IDHexUpper}, ReceiptMessageID: &profile.IDFormat{Format: profile.IDDecimal},
			Receipt: profile.Receipt{Carry: profile.CarryTLV}},
			Accounts: []server.AccountConfig{{SystemID: "acme", Password: "pw-b1", TPS: 50}}},
	)
	opA, _ := sim.Operator("mno-a")
	opB, _ := sim.Operator("mno-b")

	dir := t.TempDir()
	credA, credB := filepath.Join(dir, "mno-a.json"), filepath.Join(dir, "mno-b.json")
	os.WriteFile(credA, []byte(`{"system_id":"acme","password":"pw-a1"}`), 0o600)
	os.WriteFile(credB, []byte("system_id=acme\npassword=pw-b1\n"), 0o600)
	opsFile := fmt.Sprintf(`operators:
  - id: mno-a
    endpoints: {primary: [{address: %q}]}
    tps: 100
    quirks: {messageIdResp: decimal, messageIdReceipt: decimal}
    credentials: {file: %q}
  - id: mno-b
    endpoints: {primary: [{address: %q}]}
    tps: 50
    quirks: {messageIdResp: hex, messageIdReceipt: decimal}
    credentials: {file: %q}
`, opA.Addr(), credA, opB.Addr(), credB)
	ops, err := config.Parse([]byte(opsFile))
	if err != nil {
		t.Fatal(err)
	}

	svc := testService(t)

	conn := startConnector(t, svc, ops, Options{CredentialPoll: 200 * time.Millisecond})
	httpAddr := conn.http

	smpptest.Eventually(t, 10*time.Second, 50*time.Millisecond, func() error {
		resp, err := http.Get("http://" + httpAddr + "/readyz")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			b, _ := io.ReadAll(resp.Body)
			return fmt.Errorf("readyz %d: %s", resp.StatusCode, b)
		}
		return nil
	})

	nc, _ := nats.Connect(svc.NATS.URL)
	defer nc.Close()
	js, _ := jetstream.New(nc)
	for i := 0; i < 10; i++ {
		for _, op := range []string{"mno-a", "mno-b"} {
			cmd := fmt.Sprintf(`{"messageId":"%s-%d","operatorId":%q,"source":{"addr":"ACME","ton":5,"npi":0},
				"destination":{"addr":"447700900123","ton":1,"npi":1},"text":"hello %d","registeredDelivery":true}`, op, i, op, i)
			if _, err := js.Publish(context.Background(), natscontract.DispatchSubjectFor(op), []byte(cmd)); err != nil {
				t.Fatal(err)
			}
		}
	}
	receipts := func() map[string]int {
		c, _ := js.OrderedConsumer(context.Background(), natscontract.ReceiptStream, jetstream.OrderedConsumerConfig{})
		got := map[string]int{}
		for {
			msgs, _ := c.FetchNoWait(100)
			n := 0
			for m := range msgs.Messages() {
				n++
				var r map[string]any
				json.Unmarshal(m.Data(), &r)
				got[r["operatorId"].(string)]++
			}
			if n == 0 {
				return got
			}
		}
	}
	smpptest.Eventually(t, 15*time.Second, 100*time.Millisecond, func() error {
		if got := receipts(); got["mno-a"] != 10 || got["mno-b"] != 10 {
			return fmt.Errorf("receipts %v", got)
		}
		return nil
	})

	// Rotation: the MNO accepts both passwords, the file is re-rendered, the
	// binds are renewed with the new one.
	_ = opA.SetPasswords("acme", []string{"pw-a1", "pw-a2"})
	os.WriteFile(credA, []byte(`{"system_id":"acme","password":"pw-a2"}`), 0o600)
	smpptest.Eventually(t, 45*time.Second, 200*time.Millisecond, func() error {
		ok := 0
		for _, r := range sim.Recorder.Query(recorder.Filter{Operator: "mno-a", Command: "bind_transceiver"}) {
			if r.Status == "ESME_ROK" {
				ok++
			}
		}
		if ok < 2 {
			return fmt.Errorf("%d successful binds on mno-a", ok)
		}
		return nil
	})

	metrics, _ := http.Get("http://" + httpAddr + "/metrics")
	b, _ := io.ReadAll(metrics.Body)
	metrics.Body.Close()
	for _, want := range []string{`smpp_submits_total{operator="mno-b",outcome="accepted"`, `smpp_receipts_total{operator="mno-a",result="matched"}`, `smpp_bind_state{`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(string(b), "pw-a") {
		t.Fatal("a password in the metrics")
	}

	conn.stop() // fails the test unless it drains and stops within 30 s
}

// A receipt whose submit never shows up is counted as unmatched, logged
// with its id and kept in smpp.unmatched_receipts once it has waited
// UnmatchedAfter and its hold.
func TestUnmatchedReceiptsAreCountedAndLogged(t *testing.T) {
	sim, ops := oneOperator(t, 0, 100)
	svc := testService(t)
	var logs testutil.LogBuffer
	startConnector(t, svc, ops, Options{Log: slog.New(slog.NewJSONHandler(&logs, nil)),
		Secrets:          staticSource{secrets.Credential{SystemID: "acme", Password: "pw", Version: "1"}},
		MaintenanceEvery: 50 * time.Millisecond, UnmatchedAfter: 100 * time.Millisecond})
	smpptest.Eventually(t, 5*time.Second, 20*time.Millisecond, func() error {
		if len(sim.Sessions()) == 0 {
			return fmt.Errorf("not bound")
		}
		return nil
	})
	// Another ESME on the same account submits: its receipt reaches the
	// connector's bind, for a message the connector never sent.
	op, _ := sim.Operator("mno-a")
	other := smpptest.Dial(t, op.Addr())
	if r := other.Bind(pdu.Transmitter, "acme", "pw"); r.CommandStatus != 0 {
		t.Fatalf("bind: %v", r.CommandStatus)
	}
	other.Submit("447700900123", "not ours", 1)
	id := other.Expect(data.SUBMIT_SM_RESP, 2*time.Second).(*pdu.SubmitSMResp).MessageID
	// Given up once UnmatchedAfter and its hold (held by its id epoch:
	// config.Operator.ReceiptHold, at least 30 s) have both passed.
	smpptest.Eventually(t, 60*time.Second, 50*time.Millisecond, func() error {
		if !strings.Contains(logs.String(), `"msg":"receipt never matched a submit"`) || !strings.Contains(logs.String(), `"id":"`+id+`"`) {
			return fmt.Errorf("no unmatched receipt logged yet")
		}
		return nil
	})
}

// The profiler is served only when asked for: it reveals internals.
func TestProfilerOnlyWhenEnabled(t *testing.T) {
	ready := func(context.Context) (bool, map[string]string, []string, map[string]string) {
		return true, nil, nil, nil
	}
	for _, enabled := range []bool{false, true} {
		srv, addr, err := serveHTTP("127.0.0.1:0", enabled, metrics.New(), ready, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		resp, err := http.Get("http://" + addr + "/debug/pprof/goroutine?debug=1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if served := resp.StatusCode == http.StatusOK && strings.Contains(string(body), "goroutine profile"); served != enabled {
			t.Fatalf("pprof enabled=%v: status %d", enabled, resp.StatusCode)
		}
	}
}

// fastLease hands an operator over within a second. Not faster: PostgreSQL
// ends an owner's session after four polls without a ping, and on a busy
// 2-core machine pings come hundreds of milliseconds late.
var fastLease = lease.Options{Poll: 250 * time.Millisecond, Grace: 300 * time.Millisecond}

// replica runs one connector replica until stop is called.
type replica struct {
	http string
	stop func()
}

// startConnector runs the connector in this process until the test ends (or
// stop): o's Migrate is set here, Log and Lease default to quiet and
// fastLease. It returns once the connector runs; stop fails the test unless
// it shuts down cleanly within 30 s.
func startConnector(tb testing.TB, svc config.Service, ops *config.File, o Options) *replica {
	tb.Helper()
	o.Migrate = true
	if o.Log == nil {
		o.Log = quiet()
	}
	if o.Lease == (lease.Options{}) {
		o.Lease = fastLease
	}
	ctx, cancel := context.WithCancel(context.Background())
	slow := time.AfterFunc(30*time.Second, cancel) // a start-up that hangs is ended, and fails below
	c, err := Start(ctx, svc, ops, o)
	if err != nil {
		tb.Fatalf("connector stopped at start-up: %v", err)
	}
	if !slow.Stop() {
		_ = c.Stop()
		tb.Fatal("connector not running after 30s")
	}
	var once sync.Once
	r := &replica{http: c.HTTPAddr(), stop: func() {
		once.Do(func() {
			defer cancel()
			stopped := make(chan error, 1)
			go func() { stopped <- c.Stop() }()
			select {
			case err := <-stopped:
				if err != nil {
					tb.Errorf("shutdown: %v", err)
				}
			case <-time.After(30 * time.Second):
				tb.Error("no graceful shutdown within 30s")
			}
		})
	}}
	tb.Cleanup(r.stop)
	return r
}

func startReplica(t *testing.T, svc config.Service, ops *config.File, cred secrets.Credential) *replica {
	t.Helper()
	return startConnector(t, svc, ops, Options{Secrets: staticSource{cred}})
}

func (r *replica) readyz(t *testing.T) map[string]any {
	t.Helper()
	resp, err := http.Get("http://" + r.http + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// Two replicas (Phase 3 runs an active one and a hot standby): only one binds
// and sends, so the operator's TPS holds across them; when it stops, the
// other takes over and nothing is lost or sent twice.
func TestTwoReplicasShareAnOperatorWithoutBreachingItsTPS(t *testing.T) {
	const tps, n = 50, 150
	// The connector paces at 90% of the SMSC's contract: the simulator runs
	// in this race-instrumented process on a busy machine and stamped
	// arrivals up to ~75 ms after our writes, bunching a second's last
	// submits into the next (51 of 50 once in a few runs). Two replicas
	// sending at once would still show as ~90 of 50.
	sim, ops := oneOperator(t, tps, tps*9/10)
	svc := testService(t)
	cred := secrets.Credential{SystemID: "acme", Password: "pw", Version: "1"}

	a := startReplica(t, svc, ops, cred)
	smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		if v := a.readyz(t); v["ready"] != true || v["standby"] != nil {
			return fmt.Errorf("first replica not owning and ready: %v", v)
		}
		return nil
	})
	b := startReplica(t, svc, ops, cred)
	if v := b.readyz(t); v["ready"] != true || fmt.Sprint(v["standby"]) != "[mno-a]" {
		t.Fatalf("second replica's readiness: %v, want ready and standby for mno-a", v)
	}

	nc, _ := nats.Connect(svc.NATS.URL)
	defer nc.Close()
	js, _ := jetstream.New(nc)
	for i := 0; i < n; i++ {
		cmd := fmt.Sprintf(`{"messageId":"r-%d","operatorId":"mno-a","source":{"addr":"ACME","ton":5,"npi":0},`+
			`"destination":{"addr":"447700900123","ton":1,"npi":1},"text":"replica %d","registeredDelivery":true}`, i, i)
		if _, err := js.Publish(context.Background(), natscontract.DispatchSubjectFor("mno-a"), []byte(cmd)); err != nil {
			t.Fatal(err)
		}
	}
	outcomes := map[string]string{}
	cons, err := js.OrderedConsumer(context.Background(), natscontract.EventsStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{natscontract.OutcomeSubjectFor("mno-a")}})
	if err != nil {
		t.Fatal(err)
	}
	collect := func(want int) {
		t.Helper()
		smpptest.Eventually(t, 30*time.Second, 50*time.Millisecond, func() error {
			batch, err := cons.FetchNoWait(200)
			if err != nil {
				return err
			}
			for m := range batch.Messages() {
				var o map[string]any
				_ = json.Unmarshal(m.Data(), &o)
				outcomes[o["messageId"].(string)] = o["outcome"].(string)
			}
			if s := len(sim.Sessions()); s > 1 {
				t.Fatalf("%d binds to the SMSC, want only the owner's one", s)
			}
			if len(outcomes) < want {
				return fmt.Errorf("%d outcomes", len(outcomes))
			}
			return nil
		})
	}
	collect(n / 3)
	a.stop() // the active replica goes (a deploy, a crash): the standby takes over
	collect(n)
	for id, o := range outcomes {
		if o != "accepted" {
			t.Errorf("%s: %s", id, o)
		}
	}
	if got := sim.Stats().Sum("mno-a", "acme", "submit_sm", ""); got != n {
		t.Errorf("%d submit_sm for %d messages", got, n)
	}
	for _, r := range sim.Meter.Reports(time.Now()) {
		if r.Breaches != 0 || r.WorstSlidingWindow > tps {
			t.Errorf("TPS breached across replicas: %+v", r)
		}
	}
}

// startSim runs a simulator with the given operators until the test ends.
func startSim(tb testing.TB, ops ...server.OperatorConfig) *server.Sim {
	tb.Helper()
	sim, err := server.New(server.Config{Operators: ops}, quiet())
	if err != nil {
		tb.Fatal(err)
	}
	if err := sim.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(sim.Close)
	return sim
}

// testService returns settings for a connector on an embedded NATS server
// (JetStream, streams created) and a fresh database, both gone with the test.
func testService(tb testing.TB) config.Service {
	tb.Helper()
	ns, err := testenv.StartNATS("127.0.0.1", -1, "")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(ns.Shutdown)
	svc := config.DefaultService()
	svc.NATS.URL, svc.NATS.CreateStreams = ns.URL(), true
	svc.PostgresDSN, svc.HTTPListen = env.FreshDatabase(tb, false), "127.0.0.1:0"
	return svc
}

// A consumer that stops delivering is counted, shown by /readyz, and
// recreated by the next term: the operator does not stay silent.
func TestAFailedConsumerIsReportedAndRecreated(t *testing.T) {
	sim, ops := oneOperator(t, 0, 100)
	svc := testService(t)
	r := startReplica(t, svc, ops, secrets.Credential{SystemID: "acme", Password: "pw", Version: "1"})
	owning := func() error {
		if v := r.readyz(t); v["ready"] != true || v["standby"] != nil {
			return fmt.Errorf("not owning and ready: %v", v)
		}
		return nil
	}
	smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, owning)
	nc, _ := nats.Connect(svc.NATS.URL)
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if err := js.DeleteConsumer(context.Background(), natscontract.DispatchStream, "smpp-connector-mno-a"); err != nil {
		t.Fatal(err)
	}
	smpptest.Eventually(t, 20*time.Second, 50*time.Millisecond, func() error {
		v := r.readyz(t)
		if problems, _ := v["problems"].(map[string]any); v["ready"] == true || problems["operator mno-a consumer"] == nil {
			return fmt.Errorf("consumer failure not reported: %v", v)
		}
		return nil
	})
	resp, err := http.Get("http://" + r.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `smpp_consumer_failures_total{operator="mno-a"} 1`) {
		t.Fatalf("failure not counted:\n%s", body)
	}
	// The term gives the operator up and the next one creates the consumer again.
	smpptest.Eventually(t, 20*time.Second, 50*time.Millisecond, owning)
	cmd := `{"messageId":"after","operatorId":"mno-a","source":{"addr":"ACME","ton":5,"npi":0},` +
		`"destination":{"addr":"447700900123","ton":1,"npi":1},"text":"again","registeredDelivery":true}`
	if _, err := js.Publish(context.Background(), natscontract.DispatchSubjectFor("mno-a"), []byte(cmd)); err != nil {
		t.Fatal(err)
	}
	smpptest.Eventually(t, 10*time.Second, 50*time.Millisecond, func() error {
		if n := sim.Stats().Sum("mno-a", "acme", "submit_sm", ""); n != 1 {
			return fmt.Errorf("%d submit_sm after the consumer came back", n)
		}
		return nil
	})
}

// oneOperator starts a simulator with operator mno-a (account acme/pw, a
// contracted smscTPS, 0 for none) and returns it with an operators file
// sending to it at tps.
func oneOperator(tb testing.TB, smscTPS, tps int) (*server.Sim, *config.File) {
	tb.Helper()
	sim := startSim(tb, server.OperatorConfig{ID: "mno-a", Listen: "127.0.0.1:0",
		Accounts: []server.AccountConfig{{SystemID: "acme", Password: "pw", TPS: smscTPS}}})
	op, _ := sim.Operator("mno-a")
	ops, err := config.Parse([]byte(fmt.Sprintf("operators:\n  - id: mno-a\n    endpoints: {primary: [{address: %q}]}\n    tps: %d\n", op.Addr(), tps)))
	if err != nil {
		tb.Fatal(err)
	}
	return sim, ops
}
