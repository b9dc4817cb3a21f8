// Package pipelinetest is the test rig of the MT and inbound paths: the
// simulator, the store on a real PostgreSQL database, an embedded NATS
// server with the contract's streams, one operator's bind pool, its inbound
// handler and its outbound consumer, wired as the service wires them.
// connector/outbound and connector/inbound test through it; nothing else
// imports it.
package pipelinetest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/events"
	"github.com/smpp-connector/smpp-connector/connector/inbound"
	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/outbound"
	"github.com/smpp-connector/smpp-connector/connector/relay"
	"github.com/smpp-connector/smpp-connector/connector/session"
	"github.com/smpp-connector/smpp-connector/connector/store"
	"github.com/smpp-connector/smpp-connector/connector/throttle"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// Operator is the one operator the rig runs, on the simulator and in the
// connector.
const Operator = "mno-a"

// Rig is one running pipeline.
type Rig struct {
	Sim      *server.Sim
	JS       jetstream.JetStream
	Store    *store.Store
	Consumer *outbound.Consumer
	Inbound  *inbound.Handler
	Relay    *relay.Relay
	Drainer  *inbound.Drainer
	Pool     *session.Pool
	// Comparison is the shadow mode's comparison log.
	Comparison *LockedWriter
	// RunErr receives what the consumer's Run returned.
	RunErr chan error
}

// Options shape a rig; the zero value is a plain operator at 1000 TPS.
type Options struct {
	// DSN is a migrated database; "" for a fresh one (Main).
	DSN      string
	Profile  profile.Profile // the simulator's
	Outbound outbound.Operator
	Inbound  inbound.Operator
	// ReceiptParts is the operator's rule for multipart receipts (the relay's).
	ReceiptParts string
	Shadow       bool
	TPS          int
	// Binds is how many binds the operator's pool keeps (default 1).
	Binds int
	// Margin is the limiter's (throttle.WithMargin); 0 keeps the default.
	Margin float64
	Store  store.Options
	// NoDrainer leaves the receipt inbox undrained: the test runs a
	// Drainer itself (Rig.Drainer is nil).
	NoDrainer bool
}

// Quiet is a logger that discards.
func Quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// env is the PostgreSQL of the test binary (Main).
var env *testenv.TestEnv

// Main runs a test binary's tests with the PostgreSQL the rigs need:
//
//	func TestMain(m *testing.M) { os.Exit(pipelinetest.Main(m)) }
func Main(m *testing.M) int {
	return testenv.RunWithServices(m, testenv.Services{Postgres: true}, &env)
}

// FreshDatabase returns a fresh migrated database of Main's PostgreSQL, for
// a rig (Options.DSN) whose test also reads the tables.
func FreshDatabase(t testing.TB) string {
	t.Helper()
	if env == nil {
		t.Fatal("pipelinetest: no database: call pipelinetest.Main from TestMain, or set Options.DSN")
	}
	return env.FreshDatabase(t, true)
}

// New starts a rig, on a fresh migrated database unless o.DSN names one;
// t's cleanups stop it.
func New(t testing.TB, o Options) *Rig {
	t.Helper()
	if o.DSN == "" {
		o.DSN = FreshDatabase(t)
	}
	sim, err := server.New(server.Config{Operators: []server.OperatorConfig{{ID: Operator, Listen: "127.0.0.1:0", Profile: o.Profile,
		Accounts: []server.AccountConfig{{SystemID: "acme", Password: "secret1", TPS: o.TPS}}}}}, Quiet())
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	_, js := testenv.ContractJetStream(t)
	o.Store.Shadow = o.Shadow
	st, err := store.Open(context.Background(), o.DSN, o.Store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)

	o.Outbound.ID = Operator
	if o.TPS == 0 {
		o.TPS = 1000
	}
	r := &Rig{Sim: sim, JS: js, Store: st, Comparison: &LockedWriter{}}
	op, _ := sim.Operator(Operator)
	m, pub := metrics.New(), events.New(js, natscontract.DefaultNames(), o.Shadow, r.Comparison)
	o.Inbound.ID = Operator
	r.Inbound = inbound.New(o.Inbound, inbound.Deps{Store: st, Events: pub, Metrics: m, Log: Quiet()})
	// The relay publishes what the store writes to its outbox; it stops
	// after the consumer (cleanups run last first), before the store.
	r.Relay = relay.New(st, pub, m, Quiet(), relay.Options{Shadow: o.Shadow, ReceiptParts: func(string) string { return o.ReceiptParts }})
	t.Cleanup(r.Relay.Start())
	// The drainer applies the receipts the handler appends to the inbox;
	// it stops before the relay, so that the relay publishes its last events.
	if !o.NoDrainer {
		r.Drainer = inbound.NewDrainer(st, m, Quiet(), inbound.DrainOptions{})
		t.Cleanup(r.Drainer.Start())
	}
	// The inbound handler exists before the binds that hand it deliver_sm.
	// The operator's limiter: its binds pace with it, the consumer tells it
	// of throttling.
	var limOpts []throttle.Option
	if o.Margin > 0 {
		limOpts = append(limOpts, throttle.WithMargin(o.Margin))
	}
	lim := throttle.New(o.TPS, limOpts...)
	r.Pool = session.NewPool(session.Config{Operator: Operator, Addr: op.Addr(), Window: 10, ResponseTimeout: 5 * time.Second,
		Log: Quiet(), Deliver: r.Inbound, Pacer: lim}, max(o.Binds, 1),
		func(context.Context) (session.Auth, error) {
			return session.Auth{SystemID: "acme", Password: "secret1", Version: "1"}, nil
		})
	r.Consumer = outbound.New(o.Outbound, outbound.Deps{Store: st, Pool: r.Pool, Limiter: lim, Receipts: r.Inbound,
		JS: js, Metrics: m, Log: Quiet(), Events: pub})
	r.Pool.Start()
	t.Cleanup(r.Pool.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	r.RunErr = make(chan error, 1)
	go func() { r.RunErr <- r.Consumer.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

// LockedWriter is a strings.Builder safe for concurrent writers.
type LockedWriter struct {
	mu sync.Mutex
	w  strings.Builder
}

func (l *LockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

func (l *LockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// Publish sends a dispatch command for one text message asking a receipt;
// it returns the command's stream sequence (see WaitHandled).
func (r *Rig) Publish(t testing.TB, id, text string) uint64 {
	t.Helper()
	cmd := fmt.Sprintf(`{"messageId":%q,"operatorId":%q,"source":{"addr":"ACME","ton":5,"npi":0},
		"destination":{"addr":"447700900123","ton":1,"npi":1},"text":%q,"registeredDelivery":true}`, id, Operator, text)
	return r.PublishRaw(t, cmd)
}

// PublishRaw sends cmd as it is on the operator's dispatch subject and
// returns its stream sequence.
func (r *Rig) PublishRaw(t testing.TB, cmd string) uint64 {
	t.Helper()
	ack, err := r.JS.Publish(context.Background(), natscontract.DispatchSubjectFor(Operator), []byte(cmd))
	if err != nil {
		t.Fatal(err)
	}
	return ack.Sequence
}

// WaitHandled waits until the consumer has acked every command up to the
// stream sequence seq (the ack floor covers it): the consumer acks only
// once a command's outcomes are stored and published, so whatever handling
// it caused has happened. It returns the consumer's info read then.
func (r *Rig) WaitHandled(t testing.TB, seq uint64) *jetstream.ConsumerInfo {
	t.Helper()
	var info *jetstream.ConsumerInfo
	smpptest.Eventually(t, 20*time.Second, 20*time.Millisecond, func() error {
		c, err := r.JS.Consumer(context.Background(), natscontract.DispatchStream, natscontract.ConsumerName(Operator))
		if err != nil {
			return fmt.Errorf("consumer: %w", err)
		}
		if info, err = c.Info(context.Background()); err != nil {
			return fmt.Errorf("consumer info: %w", err)
		}
		if info.AckFloor.Stream < seq {
			return fmt.Errorf("ack floor at stream sequence %d, want %d", info.AckFloor.Stream, seq)
		}
		return nil
	})
	return info
}

// Events reads every message on a subject of a stream, decoded, once the
// relay has published every event stored so far (so that what is not there
// is not merely still in the outbox).
func (r *Rig) Events(t testing.TB, stream, subject string) []map[string]any {
	t.Helper()
	r.WaitPublished(t)
	return r.read(t, stream, subject)
}

// WaitPublished waits until the receipt inbox and the outbox are empty:
// every receipt answered so far is applied, and every outcome and receipt
// event stored so far is in its stream. (With Options.NoDrainer the inbox
// is the test's: only the outbox is waited for.)
func (r *Rig) WaitPublished(t testing.TB) {
	t.Helper()
	smpptest.Eventually(t, 20*time.Second, 20*time.Millisecond, func() error {
		in, err := r.Store.Inbox(context.Background())
		if err != nil {
			return err
		}
		if in.Pending > 0 && r.Drainer != nil {
			return fmt.Errorf("%d receipts in the inbox", in.Pending)
		}
		st, err := r.Store.Outbox(context.Background())
		if err != nil {
			return err
		}
		if st.Pending > 0 {
			return fmt.Errorf("%d events not published yet", st.Pending)
		}
		return nil
	})
}

func (r *Rig) read(t testing.TB, stream, subject string) []map[string]any {
	c, err := r.JS.OrderedConsumer(context.Background(), stream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
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
			if err := json.Unmarshal(m.Data(), &v); err != nil {
				t.Fatalf("event on %s is not JSON: %v", subject, err)
			}
			out = append(out, v)
		}
		if n == 0 {
			return out
		}
	}
}

// WaitEvents waits until a subject holds at least n messages and returns
// them all.
func (r *Rig) WaitEvents(t testing.TB, stream, subject string, n int) []map[string]any {
	t.Helper()
	var got []map[string]any
	smpptest.Eventually(t, 10*time.Second, 50*time.Millisecond, func() error {
		got = r.read(t, stream, subject)
		if len(got) < n {
			return fmt.Errorf("%d events on %s, want %d", len(got), subject, n)
		}
		return nil
	})
	return got
}

// Submits is how many submit_sm the simulator has answered for the rig's
// account, whatever the outcome.
func (r *Rig) Submits() uint64 { return r.Sim.Stats().Sum(Operator, "acme", "submit_sm", "") }
