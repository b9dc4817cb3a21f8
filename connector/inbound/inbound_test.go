package inbound

import (
	"bytes"
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

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/events"
	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/outbound"
	"github.com/smpp-connector/smpp-connector/connector/segment"
	"github.com/smpp-connector/smpp-connector/connector/session"
	"github.com/smpp-connector/smpp-connector/connector/store"
	"github.com/smpp-connector/smpp-connector/connector/throttle"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// The inbound path runs here behind the MT path that brings its receipts,
// against real PostgreSQL (container), a real NATS server (embedded) and the
// simulator.

var env *testenv.TestEnv

func TestMain(m *testing.M) {
	os.Exit(testenv.RunWithServices(m, testenv.Services{Postgres: true}, &env))
}

type rig struct {
	sim  *server.Sim
	js   jetstream.JetStream
	st   *store.Store
	w    *outbound.Consumer
	in   *Handler
	pool *session.Pool
	cmp  *lockedWriter
	// runErr receives what the consumer's Run returned.
	runErr chan error
}

type rigOpts struct {
	prof   profile.Profile
	op     outbound.Operator
	in     Operator
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
	r.in = New(o.in, Deps{Store: st, Events: pub, Metrics: m, Log: quiet()})
	// The inbound handler exists before the binds that hand it deliver_sm.
	r.pool = session.NewPool(session.Config{Operator: "mno-a", Addr: op.Addr(), Window: 10, ResponseTimeout: time.Second,
		Log: quiet(), Deliver: r.in}, 1,
		func(context.Context) (session.Auth, error) {
			return session.Auth{SystemID: "acme", Password: "secret1", Version: "1"}, nil
		})
	w := outbound.New(o.op, outbound.Deps{Store: st, Pool: r.pool, Limiter: throttle.New(o.tps), Receipts: r.in, JS: js, Metrics: m, Log: quiet(),
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

func TestHexInRespDecimalInReceipt(t *testing.T) {
	r := newRig(t, rigOpts{
		prof: profile.Profile{MessageID: profile.IDFormat{Format: profile.IDHexUpper}, ReceiptMessageID: &profile.IDFormat{Format: profile.IDDecimal}},
		op:   outbound.Operator{IDRule: dlr.IDRule{Resp: "hex", Receipt: "decimal"}},
		in:   Operator{IDRule: dlr.IDRule{Resp: "hex", Receipt: "decimal"}},
	})
	for i := 0; i < 12; i++ {
		r.publish(t, fmt.Sprintf("hx-%d", i), "hex quirk")
	}
	got := r.waitEvents(t, natscontract.ReceiptStream, natscontract.ReceiptSubject, 12)
	if len(got) != 12 {
		t.Fatalf("%d receipts matched of 12", len(got))
	}
}

func TestReceiptBeforeResp(t *testing.T) {
	r := newRig(t, rigOpts{})
	b, _ := json.Marshal(map[string]any{})
	if _, err := r.sim.Faults.Add(faults.Spec{Type: "receipt_early", Params: b}); err != nil {
		t.Fatal(err)
	}
	r.publish(t, "early-1", "receipt first")
	rcpt := r.waitEvents(t, natscontract.ReceiptStream, natscontract.ReceiptSubject, 1)[0]
	if rcpt["messageId"] != "early-1" {
		t.Fatalf("%v", rcpt)
	}
}

func TestMultipartReceiptPolicies(t *testing.T) {
	long := strings.Repeat("multipart text ", 25) // 375 chars: 3 parts
	for _, c := range []struct {
		parts string
		want  int // receipt events for the message
	}{{"each", 3}, {"last", 1}, {"first", 1}} {
		t.Run(c.parts, func(t *testing.T) {
			r := newRig(t, rigOpts{in: Operator{ReceiptParts: c.parts}, prof: profile.Profile{Receipt: profile.Receipt{Parts: c.parts}}})
			r.publish(t, "mp-"+c.parts, long)
			got := r.waitEvents(t, natscontract.ReceiptStream, natscontract.ReceiptSubject, c.want)
			time.Sleep(300 * time.Millisecond)
			if got = r.events(t, natscontract.ReceiptStream, natscontract.ReceiptSubject); len(got) != c.want {
				t.Fatalf("%d receipt events, want %d", len(got), c.want)
			}
			if got[0]["partCount"].(float64) != 3 {
				t.Fatalf("%v", got[0])
			}
		})
	}
}

// A receipt stored but not published (NATS refuses) is answered
// ESME_RX_T_APPN: the SMSC delivers it again and it is published then.
func TestReceiptNotPublishedIsDeliveredAgain(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	if err := r.js.DeleteStream(ctx, natscontract.ReceiptStream); err != nil {
		t.Fatal(err)
	}
	r.publish(t, "lost-1", "publish fails first")
	smpptest.Eventually(t, 10*time.Second, 50*time.Millisecond, func() error {
		if n := r.sim.Stats().Sum("mno-a", "acme", "receipt_resp", "ESME_RX_T_APPN"); n == 0 {
			return fmt.Errorf("no receipt refused yet")
		}
		return nil
	})
	if err := natscontract.EnsureStreams(ctx, r.js, natscontract.DefaultNames()); err != nil {
		t.Fatal(err)
	}
	got := r.waitEvents(t, natscontract.ReceiptStream, natscontract.ReceiptSubject, 1)
	if got[0]["messageId"] != "lost-1" {
		t.Fatalf("%v", got[0])
	}
}

// A multipart MO whose publish fails is published whole when the SMSC
// delivers its last part again.
func TestMultipartMOSurvivesAFailedPublish(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	if err := r.js.DeleteStream(ctx, natscontract.EventsStream); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("MO text in several parts. ", 12)
	if err := r.sim.InjectMO("mno-a", faults.MO{Source: "447700900999", Dest: "ACME", Text: long}); err != nil {
		t.Fatal(err)
	}
	smpptest.Eventually(t, 10*time.Second, 50*time.Millisecond, func() error {
		if n := r.sim.Stats().Sum("mno-a", "acme", "mo_resp", "ESME_RX_T_APPN"); n == 0 {
			return fmt.Errorf("no MO refused yet")
		}
		return nil
	})
	if err := natscontract.EnsureStreams(ctx, r.js, natscontract.DefaultNames()); err != nil {
		t.Fatal(err)
	}
	got := r.waitEvents(t, natscontract.EventsStream, natscontract.MOSubject, 1)
	if got[0]["text"] != long {
		t.Fatalf("MO %v", got[0])
	}
}

// The parts of a segmented MO are stored before they are answered: a
// connector restarted mid-message publishes it whole when the rest arrives.
func TestMultipartMOSurvivesARestart(t *testing.T) {
	r := newRig(t, rigOpts{})
	long := strings.Repeat("Parts outlive the process. ", 14) // 3 GSM 7-bit parts
	parts, err := segment.Segment(long, "gsm7", "udh16", 4242)
	if err != nil || len(parts) != 3 {
		t.Fatalf("%d parts, %v", len(parts), err)
	}
	deliver := func(h *Handler, p segment.Part) data.CommandStatusType {
		d := wire.DeliverSM{SrcTON: 1, SrcNPI: 1, Src: "447700900777", DstTON: 5, Dst: "ACME",
			EsmClass: p.EsmClass, DataCoding: p.DataCoding, Message: p.Message}
		f, err := wire.ReadFrame(bytes.NewReader(d.Append(nil, 1)), 4096)
		if err != nil {
			t.Fatal(err)
		}
		pd, err := wire.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		return h.HandleDeliver(pd.(*pdu.DeliverSM))
	}
	if st := deliver(r.in, parts[0]); st != data.ESME_ROK {
		t.Fatalf("part 1: %v", st)
	}
	if st := deliver(r.in, parts[2]); st != data.ESME_ROK {
		t.Fatalf("part 3: %v", st)
	}
	// A new process: nothing of the first handler's memory is left.
	restarted := New(Operator{ID: "mno-a"}, Deps{Store: r.st, Metrics: metrics.New(), Log: quiet(),
		Events: events.New(r.js, natscontract.DefaultNames(), false, nil)})
	if st := deliver(restarted, parts[1]); st != data.ESME_ROK {
		t.Fatalf("part 2: %v", st)
	}
	got := r.waitEvents(t, natscontract.EventsStream, natscontract.MOSubject, 1)
	if len(got) != 1 || got[0]["text"] != long || got[0]["parts"] != 3.0 {
		t.Fatalf("MO events %v", got)
	}
	// The SMSC sends a part again (its deliver_sm_resp was lost): dropped,
	// not the start of a new message that would never complete.
	if st := deliver(restarted, parts[2]); st != data.ESME_ROK {
		t.Fatalf("late copy of part 3: %v", st)
	}
	var unpublished int
	if err := r.st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM smpp.mo_parts WHERE published_at IS NULL`).Scan(&unpublished); err != nil || unpublished != 0 {
		t.Fatalf("%d MO parts not marked published (%v)", unpublished, err)
	}
	time.Sleep(200 * time.Millisecond)
	if got := r.events(t, natscontract.EventsStream, natscontract.MOSubject); len(got) != 1 {
		t.Fatalf("%d MO events, want 1", len(got))
	}
}

// An operator whose data_coding 0 is Latin-1 sends MO in Latin-1: the
// simulator encodes them with its own code (smscsim/smstext), and the
// connector decodes them with the operator's alphabet, single and
// segmented, instead of dropping them as bad GSM septets.
func TestLatin1OperatorMO(t *testing.T) {
	r := newRig(t, rigOpts{prof: profile.Profile{DataCoding0: "latin1"}, in: Operator{DataCoding0: "latin1"}})
	short := "café ¿ñ? Grüße"
	long := strings.Repeat("Ça coûte 5 £? Non: 5 ¥, señor. ", 6) // 186 characters: segmented
	for _, text := range []string{short, long} {
		if err := r.sim.InjectMO("mno-a", faults.MO{Source: "447700900999", Dest: "ACME", Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	got := r.waitEvents(t, natscontract.EventsStream, natscontract.MOSubject, 2)
	texts := map[any]bool{got[0]["text"]: true, got[1]["text"]: true}
	if !texts[short] || !texts[long] {
		t.Fatalf("MO texts %q and %q, want %q and %q", got[0]["text"], got[1]["text"], short, long)
	}
}
