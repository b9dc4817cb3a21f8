package outbound

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/events"
	"github.com/smpp-connector/smpp-connector/connector/inbound"
	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/session"
	"github.com/smpp-connector/smpp-connector/connector/store"
	"github.com/smpp-connector/smpp-connector/connector/throttle"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// The MT path runs here, with the inbound path for its receipts, against
// real PostgreSQL (container), a real NATS server (embedded) and the
// simulator.

var env *testenv.TestEnv

func TestMain(m *testing.M) {
	os.Exit(testenv.RunWithServices(m, testenv.Services{Postgres: true}, &env))
}

type rig struct {
	sim  *server.Sim
	js   jetstream.JetStream
	st   *store.Store
	w    *Consumer
	in   *inbound.Handler
	pool *session.Pool
	cmp  *lockedWriter
	// runErr receives what the consumer's Run returned.
	runErr chan error
}

type rigOpts struct {
	prof   profile.Profile
	op     Operator
	in     inbound.Operator
	shadow bool
	tps    int
	store  store.Options
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newRig(t *testing.T, o rigOpts) *rig {
	t.Helper()
	sim, err := server.New(server.Config{Operators: []server.OperatorConfig{{ID: "mno-a", Listen: "127.0.0.1:0", Profile: o.prof,
		Accounts: []server.AccountConfig{{SystemID: "acme", Password: "secret1", TPS: o.tps}}}}}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	ns, err := testenv.StartNATS("127.0.0.1", -1, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	nc, err := nats.Connect(ns.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	if err := natscontract.EnsureStreams(context.Background(), js, natscontract.DefaultNames()); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), env.FreshDatabase(t, true), o.store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)

	o.op.ID = "mno-a"
	if o.tps == 0 {
		o.tps = 1000
	}
	r := &rig{sim: sim, js: js, st: st, cmp: &lockedWriter{w: &strings.Builder{}}}
	op, _ := sim.Operator("mno-a")
	m, pub := metrics.New(), events.New(js, natscontract.DefaultNames(), o.shadow, r.cmp)
	o.in.ID = "mno-a"
	r.in = inbound.New(o.in, inbound.Deps{Store: st, Events: pub, Metrics: m, Log: quiet()})
	// The inbound handler exists before the binds that hand it deliver_sm.
	r.pool = session.NewPool(session.Config{Operator: "mno-a", Addr: op.Addr(), Window: 10, ResponseTimeout: time.Second,
		Log: quiet(), Deliver: r.in}, 1,
		func(context.Context) (session.Auth, error) {
			return session.Auth{SystemID: "acme", Password: "secret1", Version: "1"}, nil
		})
	w := New(o.op, Deps{Store: st, Pool: r.pool, Limiter: throttle.New(o.tps), Receipts: r.in, JS: js, Metrics: m, Log: quiet(),
		Events: pub})
	r.w = w
	r.pool.Start()
	t.Cleanup(r.pool.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	r.runErr = make(chan error, 1)
	go func() { r.runErr <- w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

type lockedWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (r *rig) publish(t *testing.T, id, text string) {
	t.Helper()
	cmd := fmt.Sprintf(`{"messageId":%q,"operatorId":"mno-a","source":{"addr":"ACME","ton":5,"npi":0},
		"destination":{"addr":"447700900123","ton":1,"npi":1},"text":%q,"registeredDelivery":true}`, id, text)
	r.publishRaw(t, cmd)
}

func (r *rig) publishRaw(t *testing.T, cmd string) {
	t.Helper()
	if _, err := r.js.Publish(context.Background(), natscontract.DispatchSubjectFor("mno-a"), []byte(cmd)); err != nil {
		t.Fatal(err)
	}
}

// events reads every message on a subject of a stream.
func (r *rig) events(t *testing.T, stream, subject string) []map[string]any {
	t.Helper()
	c, err := r.js.OrderedConsumer(context.Background(), stream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for {
		msgs, err := c.FetchNoWait(100)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range msgs.Messages() {
			n++
			var v map[string]any
			_ = json.Unmarshal(m.Data(), &v)
			out = append(out, v)
		}
		if n == 0 {
			return out
		}
	}
}

func (r *rig) waitEvents(t *testing.T, stream, subject string, n int) []map[string]any {
	t.Helper()
	var got []map[string]any
	smpptest.Eventually(t, 10*time.Second, 50*time.Millisecond, func() error {
		got = r.events(t, stream, subject)
		if len(got) < n {
			return fmt.Errorf("%d events on %s, want %d", len(got), subject, n)
		}
		return nil
	})
	return got
}

func TestRoundTripSubmitReceiptAndOutcome(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.publish(t, "m-1", "Hello receipt")
	rcpt := r.waitEvents(t, natscontract.ReceiptStream, natscontract.ReceiptSubject, 1)[0]
	if rcpt["messageId"] != "m-1" || rcpt["status"] != "DELIVERED" || rcpt["stat"] != "DELIVRD" {
		t.Fatalf("receipt event %v", rcpt)
	}
	out := r.waitEvents(t, natscontract.EventsStream, natscontract.OutcomeSubjectFor("mno-a"), 1)[0]
	if out["outcome"] != "accepted" || out["smscMessageId"] != rcpt["smscMessageId"] {
		t.Fatalf("outcome %v", out)
	}
}

func TestBadCommandsGoToDeadLetter(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.publishRaw(t, `{"messageId":`)
	r.publishRaw(t, `{"messageId":"x","operatorId":"mno-a","source":{"addr":"ACME","ton":5},"destination":{"addr":"44"},"text":"😀","encoding":"gsm7"}`)
	dl := r.waitEvents(t, natscontract.EventsStream, natscontract.DeadLetterSubjectFor("mno-a"), 2)
	if !strings.Contains(dl[0]["reason"].(string), "not JSON") || dl[1]["field"] != "text" {
		t.Fatalf("%v", dl)
	}
	if n := len(r.sim.Stats().Counts()); n != 0 && r.sim.Stats().Sum("mno-a", "", "submit_sm", "") != 0 {
		t.Fatal("a bad command reached the SMSC")
	}
}

func TestRedeliveredCommandIsNotResubmitted(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.publish(t, "dup-1", "once only")
	r.waitEvents(t, natscontract.EventsStream, natscontract.OutcomeSubjectFor("mno-a"), 1)
	// The orchestrator (or a replay) sends the same command again.
	r.publish(t, "dup-1", "once only")
	time.Sleep(500 * time.Millisecond)
	if n := r.sim.Stats().Sum("mno-a", "acme", "submit_sm", ""); n != 1 {
		t.Fatalf("%d submit_sm for one message", n)
	}
}

func TestThrottledAnswersAreRetriedNotLost(t *testing.T) {
	r := newRig(t, rigOpts{op: Operator{RetryDelay: 100 * time.Millisecond}})
	b, _ := json.Marshal(map[string]any{"tps": 5})
	if _, err := r.sim.Faults.Add(faults.Spec{Type: "throttle", Params: b}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 12; i++ {
		r.publish(t, fmt.Sprintf("th-%d", i), "slow down")
	}
	out := r.waitEvents(t, natscontract.EventsStream, natscontract.OutcomeSubjectFor("mno-a"), 12)
	for _, o := range out {
		if o["outcome"] != "accepted" {
			t.Fatalf("%v", o)
		}
	}
}

func TestShadowModePublishesNothing(t *testing.T) {
	r := newRig(t, rigOpts{shadow: true})
	r.publish(t, "sh-1", "shadow")
	smpptest.Eventually(t, 5*time.Second, 50*time.Millisecond, func() error {
		if !strings.Contains(r.cmp.String(), `"kind":"receipt"`) {
			return fmt.Errorf("comparison log: %s", r.cmp.String())
		}
		return nil
	})
	if n := len(r.events(t, natscontract.ReceiptStream, natscontract.ReceiptSubject)); n != 0 {
		t.Fatalf("%d receipts published in shadow mode", n)
	}
	if n := len(r.events(t, natscontract.EventsStream, natscontract.OutcomeSubjectFor("mno-a"))); n != 0 {
		t.Fatalf("%d outcomes published in shadow mode", n)
	}
}

// A command that takes longer than the ack wait (here paced by the TPS) is
// not redelivered to another goroutine meanwhile, which would submit its
// pending parts a second time.
func TestSlowCommandKeepsItsDeliveryAlive(t *testing.T) {
	r := newRig(t, rigOpts{tps: 2, op: Operator{AckWait: time.Second}})
	r.publish(t, "slow-1", strings.Repeat("paced ", 150)) // 900 characters: 6 parts at 2 TPS
	out := r.waitEvents(t, natscontract.EventsStream, natscontract.OutcomeSubjectFor("mno-a"), 6)
	time.Sleep(1500 * time.Millisecond) // a redelivery would have come by now
	if n := r.sim.Stats().Sum("mno-a", "acme", "submit_sm", ""); n != 6 {
		t.Fatalf("%d submit_sm for a 6-part message (outcomes: %v)", n, out)
	}
}

// When the store fails after the SMSC has answered, the outcome is stored
// on a retry instead of the command being handed back: a redelivery would
// find the part pending and submit it again.
func TestOutcomeStoredAfterAStoreOutageNotResubmitted(t *testing.T) {
	r := newRig(t, rigOpts{op: Operator{RetryDelay: 100 * time.Millisecond}, store: store.Options{FlushTimeout: 500 * time.Millisecond}})
	b, _ := json.Marshal(map[string]any{"distribution": map[string]any{"kind": "fixed", "value": "500ms"}})
	if _, err := r.sim.Faults.Add(faults.Spec{Type: "latency", Params: b, Match: faults.Match{Command: "submit_sm"}}); err != nil {
		t.Fatal(err)
	}
	db := r.st.Pool()
	r.publish(t, "outage-1", "stored late")
	smpptest.Eventually(t, 5*time.Second, 5*time.Millisecond, func() error {
		var n int
		if err := db.QueryRow(context.Background(), `SELECT count(*) FROM smpp.message_correlations WHERE message_id = 'outage-1'`).Scan(&n); err != nil || n != 1 {
			return fmt.Errorf("part not prepared yet (%d, %v)", n, err)
		}
		return nil
	})
	// The submit is on its way: take the table away for longer than a flush may last.
	tx, err := db.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), `LOCK TABLE smpp.message_correlations IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond)
	_ = tx.Rollback(context.Background())
	out := r.waitEvents(t, natscontract.EventsStream, natscontract.OutcomeSubjectFor("mno-a"), 1)
	if out[0]["outcome"] != "accepted" {
		t.Fatalf("outcome %v", out[0])
	}
	time.Sleep(500 * time.Millisecond)
	if n := r.sim.Stats().Sum("mno-a", "acme", "submit_sm", ""); n != 1 {
		t.Fatalf("%d submit_sm for one message", n)
	}
}

// A JetStream consumer deleted under the Consumer (by an operator, a stream reset) stops
// deliveries: Run says so instead of idling, so the service can react.
func TestRunReportsAConsumerThatStopsDelivering(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.publish(t, "before", "consumed")
	r.waitEvents(t, natscontract.EventsStream, natscontract.OutcomeSubjectFor("mno-a"), 1)
	if err := r.js.DeleteConsumer(context.Background(), natscontract.DispatchStream, natscontract.ConsumerName("mno-a")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.runErr:
		if err == nil || !strings.Contains(err.Error(), "stopped delivering") {
			t.Fatalf("Run returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run still idling after its consumer was deleted")
	}
}
