package operator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/events"
	"github.com/smpp-connector/smpp-connector/connector/inbound"
	"github.com/smpp-connector/smpp-connector/connector/lease"
	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/relay"
	"github.com/smpp-connector/smpp-connector/connector/secrets"
	"github.com/smpp-connector/smpp-connector/connector/store"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// The operator runs here against real PostgreSQL (container: the store and
// the lease), a real NATS server (embedded) and the simulator.

var env *testenv.TestEnv

func TestMain(m *testing.M) {
	os.Exit(testenv.RunWithServices(m, testenv.Services{Postgres: true, Vault: true}, &env))
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// rig is one simulated operator, its credential file, and what the
// operator's runners share.
type rig struct {
	sim  *server.Sim
	dsn  string
	js   jetstream.JetStream
	cred string
	cfg  Config
	deps Deps
}

// newRig builds the rig; dataCoding0 is the operator's default alphabet
// (what data_coding 0 means), in the simulator's profile and the operators
// file alike; "" keeps the default.
// startSim starts a simulator serving ops on ports of their own, each
// with the rig's account (acme/pw1), closed when the test ends (after a
// runner stopped by a cleanup registered later).
func startSim(t *testing.T, ops ...server.OperatorConfig) *server.Sim {
	t.Helper()
	for i := range ops {
		ops[i].Listen = "127.0.0.1:0"
		ops[i].Accounts = []server.AccountConfig{{SystemID: "acme", Password: "pw1"}}
	}
	sim, err := server.New(server.Config{Operators: ops}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return sim
}

func newRig(t *testing.T, bindType, dataCoding0 string) *rig {
	t.Helper()
	sim := startSim(t, server.OperatorConfig{ID: "mno-a", Profile: profile.Profile{DataCoding0: dataCoding0}})
	_, js := testenv.ContractJetStream(t)
	dsn := env.FreshDatabase(t, true)
	st, err := store.Open(context.Background(), dsn, store.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	// The relay publishes the events the store writes (stopped after the
	// runners, whose cleanups come later, and before the store).
	pub := events.New(js, natscontract.DefaultNames(), false, nil)
	m := metrics.New()
	t.Cleanup(relay.New(st, pub, m, quiet(), relay.Options{}).Start())
	// The drainer applies the receipts the binds append to the inbox.
	t.Cleanup(inbound.NewDrainer(st, m, quiet(), inbound.DrainOptions{}).Start())
	cred := filepath.Join(t.TempDir(), "mno-a.json")
	if err := os.WriteFile(cred, []byte(`{"system_id":"acme","password":"pw1"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	op, _ := sim.Operator("mno-a")
	yaml := fmt.Sprintf("operators:\n  - id: mno-a\n    endpoints: {primary: [{address: %q}]}\n    tps: 100\n    bindType: %s\n",
		op.Addr(), bindType)
	if dataCoding0 != "" {
		yaml += "    encoding: {defaultAlphabet: " + dataCoding0 + "}\n"
	}
	ops, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	oc, _ := ops.Operator("mno-a")
	return &rig{sim: sim, dsn: dsn, js: js, cred: cred,
		cfg: Config{Operator: oc, CredentialPoll: 50 * time.Millisecond},
		deps: Deps{Secrets: &secrets.File{Paths: map[string]string{"mno-a": cred}, Logger: quiet()}, Store: st, JS: js,
			Names: natscontract.DefaultNames(), Events: pub,
			Metrics: metrics.New(), Log: quiet()}}
}

// run runs a runner for the operator until stop; stop returns once Run has.
func (r *rig) run(t *testing.T) (*Runner, func()) {
	t.Helper()
	rn, err := New(r.cfg, r.deps)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	l := lease.New(r.dsn, "operator/mno-a", lease.Options{Poll: 250 * time.Millisecond, Grace: 300 * time.Millisecond, Log: quiet()})
	go func() { defer close(done); rn.Run(ctx, l) }()
	stop := func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("Run still running 30s after its context ended")
		}
	}
	t.Cleanup(stop)
	return rn, stop
}

func owning(rn *Runner) func() error {
	return func() error {
		if s := rn.Status(); s.Standby || len(s.Unbound) > 0 || s.NotConsuming != "" {
			return fmt.Errorf("not owning with every pool bound: %+v", s)
		}
		return nil
	}
}

func (r *rig) send(t *testing.T, id string) {
	t.Helper()
	cmd := fmt.Sprintf(`{"messageId":%q,"operatorId":"mno-a","source":{"addr":"ACME","ton":5,"npi":0},`+
		`"destination":{"addr":"447700900123","ton":1,"npi":1},"text":"hello","registeredDelivery":true}`, id)
	if _, err := r.js.Publish(context.Background(), natscontract.DispatchSubjectFor("mno-a"), []byte(cmd)); err != nil {
		t.Fatal(err)
	}
}

// waitEvent waits for an event on stream (subject "" for all) that match
// accepts; match returns why an event is not the one wanted.
func (r *rig) waitEvent(t *testing.T, stream, subject string, match func(map[string]any) error) {
	t.Helper()
	cfg := jetstream.OrderedConsumerConfig{}
	if subject != "" {
		cfg.FilterSubjects = []string{subject}
	}
	c, err := r.js.OrderedConsumer(context.Background(), stream, cfg)
	if err != nil {
		t.Fatal(err)
	}
	last := errors.New("no event yet")
	smpptest.Eventually(t, 15*time.Second, 50*time.Millisecond, func() error {
		msgs, err := c.FetchNoWait(100)
		if err != nil {
			return err
		}
		for m := range msgs.Messages() {
			var v map[string]any
			_ = json.Unmarshal(m.Data(), &v)
			if last = match(v); last == nil {
				return nil
			}
		}
		return last
	})
}

// waitReceipt waits for the receipt of message id on the receipt stream.
func (r *rig) waitReceipt(t *testing.T, id string) {
	t.Helper()
	r.waitEvent(t, natscontract.ReceiptStream, "", func(v map[string]any) error {
		if v["messageId"] != id {
			return fmt.Errorf("no receipt for %s yet", id)
		}
		return nil
	})
}

func (r *rig) successfulBinds(command string) int {
	n := 0
	for _, rec := range r.sim.Recorder.Query(recorder.Filter{Operator: "mno-a", Command: command}) {
		if rec.Status == "ESME_ROK" {
			n++
		}
	}
	return n
}

// With transmitter+receiver binds the term runs two pools: submits go out
// on the transmitter, receipts come back on the receiver and reach the
// inbound handler; a rotated credential renews both.
func TestTransmitterReceiverTerm(t *testing.T) {
	r := newRig(t, config.BindTransmitterReceiver, "")
	rn, _ := r.run(t)
	smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, owning(rn))
	r.send(t, "txrx-1")
	r.waitReceipt(t, "txrx-1")
	if tx, rx := r.successfulBinds("bind_transmitter"), r.successfulBinds("bind_receiver"); tx != 1 || rx != 1 {
		t.Fatalf("%d transmitter and %d receiver binds, want one each", tx, rx)
	}

	// The credential file is re-rendered: the runner's watch renews both pools.
	op, _ := r.sim.Operator("mno-a")
	_ = op.SetPasswords("acme", []string{"pw1", "pw2"})
	if err := os.WriteFile(r.cred, []byte(`{"system_id":"acme","password":"pw2"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	smpptest.Eventually(t, 15*time.Second, 50*time.Millisecond, func() error {
		if tx, rx := r.successfulBinds("bind_transmitter"), r.successfulBinds("bind_receiver"); tx < 2 || rx < 2 {
			return fmt.Errorf("%d transmitter and %d receiver binds after the rotation", tx, rx)
		}
		return nil
	})
	r.send(t, "txrx-2")
	r.waitReceipt(t, "txrx-2")
}

// Two runners for one operator (two replicas): one owns it, the other
// stands by and takes over when the owner stops.
func TestStandbyTakesOverWhenTheOwnerStops(t *testing.T) {
	r := newRig(t, config.BindTransceiver, "")
	a, stopA := r.run(t)
	smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, owning(a))
	b, _ := r.run(t)
	r.send(t, "before")
	r.waitReceipt(t, "before")
	if s := b.Status(); !s.Standby {
		t.Fatalf("second runner %+v while the first owns the operator", s)
	}
	stopA()
	if s := a.Status(); !s.Standby {
		t.Fatalf("stopped runner still reports a term: %+v", s)
	}
	smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, owning(b))
	r.send(t, "after")
	r.waitReceipt(t, "after")
}

// The operator's default alphabet reaches the inbound handler the term
// builds: a Latin-1 operator's MO (data_coding 0) is published in Latin-1,
// not dropped as bad GSM septets.
func TestLatin1OperatorMOThroughTheTerm(t *testing.T) {
	r := newRig(t, config.BindTransceiver, config.AlphabetLatin1)
	rn, _ := r.run(t)
	smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, owning(rn))
	const text = "Grüße, señor: ¿qué tal?"
	if err := r.sim.InjectMO("mno-a", faults.MO{Source: "447700900999", Dest: "ACME", Text: text}); err != nil {
		t.Fatal(err)
	}
	r.waitEvent(t, natscontract.EventsStream, natscontract.MOSubject, func(v map[string]any) error {
		if v["text"] != text {
			return fmt.Errorf("MO published as %q, want %q", v["text"], text)
		}
		return nil
	})
}
