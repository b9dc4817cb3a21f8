package faults_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go/jetstream"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/internal/testutil"
	"github.com/smpp-connector/smpp-connector/scenarios/framework"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
)

// The account every entry's simulated SMSC has, and its first password.
const (
	operatorID = "mno-a"
	systemID   = "acme"
	password   = "pw-first"
)

// Defaults of an entry: a few thousand messages at a modest rate, so that
// the whole matrix runs in minutes on two cores.
const (
	defaultMessages = 2000
	defaultTPS      = 250
	// drainTimeout bounds the wait, after the lift, for every command to be
	// acked and every receipt answered; what is missing then is counted.
	drainTimeout = 90 * time.Second
)

// entry is one fault of the matrix.
type entry struct {
	// Name is the label of the spec and the prefix of its criteria in
	// scenarios/gates.yaml (<name>_outcomes_missing, ...).
	Name        string
	Description string
	Messages    int
	TPS         int
	// Replicas is how many connector processes run (default 1); the first
	// started owns the operator.
	Replicas int
	// Operator is extra YAML for the operator (lines indented by four spaces).
	Operator string
	// InjectAfter is how many accepted submit_sm the SMSC must have seen
	// before the fault (default a quarter of the messages): traffic flows.
	InjectAfter int
	// Setup runs once the connector is up, before the traffic.
	Setup func(ctx context.Context, r *rig)
	// Inject injects the fault and returns once it is lifted (the component
	// is back, the storm is over), setting r.lifted (and r.gapFrom for a
	// fault that never stops traffic by design).
	Inject func(ctx context.Context, r *rig)
}

var entries = map[string]entry{}

// register adds an entry of the matrix; each fault's file calls it once.
func register(e entry) bool {
	if _, dup := entries[e.Name]; dup {
		panic("fault entry registered twice: " + e.Name)
	}
	if e.Messages == 0 {
		e.Messages = defaultMessages
	}
	if e.TPS == 0 {
		e.TPS = defaultTPS
	}
	e.Replicas = max(e.Replicas, 1)
	if e.InjectAfter == 0 {
		e.InjectAfter = e.Messages / 4
	}
	entries[e.Name] = e
	return true
}

// rig is one entry's world: its simulator, database, fresh streams and
// connector processes.
type rig struct {
	e        entry
	prefix   string // message ids: <prefix>-00042
	dir      string
	sim      *framework.Simulator
	dsn      string
	js       jetstream.JetStream
	cred     string // the credentials file the connector reads
	ops      string // the operators file
	procs    []*framework.ConnectorProcess
	started  int // processes started so far (names)
	msgs     []sent
	lifted   time.Time
	gapFrom  time.Time
	injected time.Time
	notes    []string
}

func (r *rig) note(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	r.notes = append(r.notes, s)
	fmt.Fprintf(GinkgoWriter, "%s: %s\n", r.e.Name, s)
}

// writeCredential renders the credentials file the way Vault Agent does:
// a new file renamed over the old one.
func (r *rig) writeCredential(pw string) {
	GinkgoHelper()
	tmp := r.cred + ".tmp"
	Expect(os.WriteFile(tmp, fmt.Appendf(nil, `{"system_id": %q, "password": %q}`, systemID, pw), 0o600)).To(Succeed())
	Expect(os.Rename(tmp, r.cred)).To(Succeed())
}

// startConnector starts one more connector process (settings as the README
// documents them: the operators file and SMPP_* variables).
func (r *rig) startConnector() *framework.ConnectorProcess {
	GinkgoHelper()
	r.started++
	p, err := framework.StartConnectorProcess(fmt.Sprintf("connector-%d", r.started), framework.ProcessSettings{
		Binary: connectorBinary, OperatorsFile: r.ops, NATSURL: env.Endpoints.NATSURL, PostgresDSN: r.dsn})
	Expect(err).NotTo(HaveOccurred())
	r.procs = append(r.procs, p)
	DeferCleanup(func() {
		if err := p.Stop(30 * time.Second); err != nil {
			fmt.Fprintf(GinkgoWriter, "%s: %v\n", p.Name, err)
		}
		if CurrentSpecReport().Failed() {
			fmt.Fprintf(GinkgoWriter, "--- %s output ---\n%s\n", p.Name, lastLines(p.Logs.String(), 40))
		}
	})
	return p
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// accepted is how many submit_sm the SMSC has accepted.
func (r *rig) accepted() uint64 {
	return r.sim.Sim.Stats().Sum(operatorID, "", "submit_sm", "ESME_ROK")
}

// newRig builds the world of one entry: a simulator contracted at the
// entry's TPS, an empty database, the contract's streams made anew (so no
// dedupe id of an earlier entry is still in a duplicate window), and the
// connector processes, the first one owning the operator.
func newRig(ctx context.Context, e entry) *rig {
	GinkgoHelper()
	r := &rig{e: e, prefix: fmt.Sprintf("%s-%d", e.Name, time.Now().UnixNano()), dir: GinkgoT().TempDir()}
	r.sim = framework.StartSimulator(ctx, server.Config{RecorderSize: 4 * e.Messages, Operators: []server.OperatorConfig{{
		ID: operatorID, Listen: "127.0.0.1:0",
		Accounts: []server.AccountConfig{{SystemID: systemID, Password: password, TPS: e.TPS}},
	}}})
	r.dsn = env.NewDatabase(ctx)
	r.js = env.JetStream()
	for _, s := range natscontract.Streams(natscontract.DefaultNames()) {
		if err := r.js.DeleteStream(ctx, s.Name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			Fail(fmt.Sprintf("delete stream %s: %v", s.Name, err))
		}
	}
	Expect(natscontract.EnsureStreams(ctx, r.js, natscontract.DefaultNames())).To(Succeed())

	r.cred = filepath.Join(r.dir, operatorID+".json")
	r.writeCredential(password)
	r.ops = filepath.Join(r.dir, "operators.yaml")
	yaml := fmt.Sprintf("operators:\n  - id: %s\n    endpoints: {primary: [{address: %q}]}\n    tps: %d\n    credentials: {file: %q}\n%s",
		operatorID, r.sim.Addr(operatorID), e.TPS, r.cred, e.Operator)
	Expect(os.WriteFile(r.ops, []byte(yaml), 0o600)).To(Succeed())

	first := r.startConnector()
	first.WaitReady(ctx, true, 90*time.Second)
	for range e.Replicas - 1 {
		r.startConnector().WaitReady(ctx, false, 90*time.Second)
	}
	return r
}

// publish sends the entry's messages on the dispatch stream: every tenth in
// two parts, each to its own destination (how the judge maps what the SMSC
// saw to messages), with the message id as JetStream's dedupe id.
func (r *rig) publish(ctx context.Context) {
	GinkgoHelper()
	long := strings.Repeat("0123456789", 20) // 200 GSM characters: two parts
	for i := range r.e.Messages {
		m := sent{ID: fmt.Sprintf("%s-%05d", r.prefix, i), Dest: fmt.Sprintf("4478%08d", i), Parts: 1}
		text := "fault matrix " + m.ID
		if i%10 == 9 {
			m.Parts, text = 2, long
		}
		r.msgs = append(r.msgs, m)
		cmd := fmt.Sprintf(`{"messageId":%q,"operatorId":%q,"source":{"addr":"ACME","ton":5,"npi":0},`+
			`"destination":{"addr":%q,"ton":1,"npi":1},"text":%q,"registeredDelivery":true}`, m.ID, operatorID, m.Dest, text)
		_, err := r.js.PublishAsync(natscontract.DispatchSubjectFor(operatorID), []byte(cmd), jetstream.WithMsgID(m.ID))
		Expect(err).NotTo(HaveOccurred())
	}
	select {
	case <-r.js.PublishAsyncComplete():
	case <-time.After(60 * time.Second):
		Fail("publishing the commands took over a minute")
	}
}

// waitAccepted waits until the SMSC has accepted n submit_sm.
func (r *rig) waitAccepted(ctx context.Context, n int) {
	GinkgoHelper()
	framework.CheckFor(90*time.Second, 20*time.Millisecond, func() error {
		if got := r.accepted(); got < uint64(n) {
			return fmt.Errorf("%d of %d submit_sm accepted before the fault", got, n)
		}
		return nil
	})
}

// drain waits, after the lift, until the connector has acked every command,
// the SMSC has had every receipt answered, and the event streams have not
// grown for three seconds: then whatever is missing will stay missing. It
// gives up after drainTimeout (noting what was left) and the judge counts
// what is there.
func (r *rig) drain(ctx context.Context) {
	GinkgoHelper()
	var stableSince time.Time
	var last [2]uint64
	err := testutil.Poll(ctx, drainTimeout, 200*time.Millisecond, func() error {
		cons, err := r.js.Consumer(ctx, natscontract.DispatchStream, natscontract.ConsumerName(operatorID))
		if err != nil {
			return err
		}
		ci, err := cons.Info(ctx)
		if err != nil {
			return err
		}
		if ci.NumPending > 0 || ci.NumAckPending > 0 {
			stableSince = time.Time{}
			return fmt.Errorf("commands not acked: %d pending, %d in work", ci.NumPending, ci.NumAckPending)
		}
		st := r.sim.Sim.Stats()
		due, answered := st.Sum(operatorID, "", "receipt", ""), st.Sum(operatorID, "", "receipt_resp", "ESME_ROK")
		if answered < due {
			stableSince = time.Time{}
			return fmt.Errorf("receipts answered %d of %d", answered, due)
		}
		// A receipt of a message sent before the binds dropped (a process
		// start, a takeover, an SMSC restart or a network cut) waits out the
		// operator's hold before it is attributed (README, "Receipts after
		// an SMSC restart"): late, not lost.
		if n, err := r.waitingOutTheirHold(ctx); err != nil || n > 0 {
			stableSince = time.Time{}
			return fmt.Errorf("%d receipts waiting out their hold (%v)", n, err)
		}
		var now [2]uint64
		for i, name := range []string{natscontract.EventsStream, natscontract.ReceiptStream} {
			s, err := r.js.Stream(ctx, name)
			if err != nil {
				return err
			}
			now[i] = s.CachedInfo().State.Msgs
		}
		if now != last || stableSince.IsZero() {
			last, stableSince = now, time.Now()
		}
		if time.Since(stableSince) < 3*time.Second {
			return fmt.Errorf("events still coming: %v", now)
		}
		return nil
	})
	if err != nil {
		r.note("not drained %s after the lift: %v", drainTimeout, err)
	}
}

// waitingOutTheirHold counts the receipts the connector holds until their
// hold passes, to be attributed then to the part that held their key.
func (r *rig) waitingOutTheirHold(ctx context.Context) (int, error) {
	conn, err := pgx.Connect(ctx, r.dsn)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM smpp.pending_receipts WHERE candidate_id IS NOT NULL`).Scan(&n)
	return n, err
}

// observe reads what the judge needs: the simulator's recorder and meter,
// both event streams from their start, and the receipts PostgreSQL holds.
func (r *rig) observe(ctx context.Context) observed {
	GinkgoHelper()
	o := observed{Messages: r.msgs, LiftedAt: r.lifted, GapFrom: r.gapFrom, Now: time.Now(), Limit: r.e.TPS, InjectedAt: r.injected}
	o.Submits = framework.SMSCSubmits(r.sim.Sim.Recorder.Query(recorder.Filter{Operator: operatorID, Command: "submit_sm"}))
	if n := r.sim.Sim.Recorder.Query(recorder.Filter{}); len(n) >= 4*r.e.Messages {
		r.note("the simulator's recorder is full (%d records): early submits may be missing", len(n))
	}
	if rep, ok := r.sim.Sim.Meter.Report(operatorID+"/"+systemID, time.Now()); ok {
		o.Breaches, o.WorstSecond = rep.SlidingBreaches, rep.WorstSlidingWindow
	}
	readStream(ctx, r.js, natscontract.EventsStream, func(subject string, b []byte) {
		if subject != natscontract.OutcomeSubjectFor(operatorID) {
			return
		}
		var e outcomeEvent
		Expect(json.Unmarshal(b, &e)).To(Succeed())
		o.Outcomes = append(o.Outcomes, e)
	})
	readStream(ctx, r.js, natscontract.ReceiptStream, func(_ string, b []byte) {
		var e receiptEvent
		Expect(json.Unmarshal(b, &e)).To(Succeed())
		o.Receipts = append(o.Receipts, e)
	})
	conn, err := pgx.Connect(ctx, r.dsn)
	Expect(err).NotTo(HaveOccurred())
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT message_id, part_number FROM smpp.message_correlations WHERE receipt_state IS NOT NULL`)
	Expect(err).NotTo(HaveOccurred())
	o.Stored, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (storedReceipt, error) {
		var s storedReceipt
		return s, row.Scan(&s.MessageID, &s.Part)
	})
	Expect(err).NotTo(HaveOccurred())
	return o
}

// readStream reads every message of a stream, from its first, and stops at
// the count the stream holds now.
func readStream(ctx context.Context, js jetstream.JetStream, stream string, each func(subject string, data []byte)) {
	GinkgoHelper()
	s, err := js.Stream(ctx, stream)
	Expect(err).NotTo(HaveOccurred())
	info, err := s.Info(ctx)
	Expect(err).NotTo(HaveOccurred())
	want := info.State.Msgs
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	Expect(err).NotTo(HaveOccurred())
	var got uint64
	deadline := time.Now().Add(time.Minute)
	for got < want {
		Expect(time.Now().Before(deadline)).To(BeTrue(), "read %d of %d messages of %s", got, want, stream)
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(2*time.Second))
		Expect(err).NotTo(HaveOccurred())
		for m := range batch.Messages() {
			got++
			each(m.Subject(), m.Data())
		}
	}
}

// run is one entry from start to gate.
func run(ctx context.Context, e entry) {
	t0 := time.Now()
	r := newRig(ctx, e)
	if e.Setup != nil {
		e.Setup(ctx, r)
	}
	r.publish(ctx)
	r.waitAccepted(ctx, e.InjectAfter)
	r.injected = time.Now()
	e.Inject(ctx, r)
	Expect(r.lifted).NotTo(BeZero(), "the entry did not say when its fault was lifted")
	r.note("fault injected after %d accepted submit_sm, lifted %s later", e.InjectAfter, r.lifted.Sub(r.injected).Round(time.Millisecond))
	r.drain(ctx)
	o := r.observe(ctx)
	saveObserved(r.e.Name, o)
	// The HTML report: the fault on the timeline (and shaded over the TPS
	// the simulator records itself), and what the connector stored. The
	// connector runs as a process here, so no fixture captures its store.
	framework.RecordFault(e.Name, e.Description, r.injected, r.lifted)
	if err := framework.RecordCorrelations(ctx, r.dsn, t0); err != nil {
		fmt.Fprintf(GinkgoWriter, "%s: correlation store not captured for the report: %v\n", e.Name, err)
	}
	report(r, judge(o), time.Since(t0))
}

// saveObserved writes what the judge saw to reports/faults/<entry>.observed.json,
// to look into a failure (or replay the judge on it) after the run.
func saveObserved(name string, o observed) {
	dir, err := framework.ReportDir()
	if err == nil {
		dir = filepath.Join(dir, "faults")
		err = os.MkdirAll(dir, 0o755)
	}
	var b []byte
	if err == nil {
		b, err = json.Marshal(o)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name+".observed.json"), b, 0o644)
	}
	if err != nil {
		fmt.Fprintf(GinkgoWriter, "%s: observation not saved: %v\n", name, err)
	}
}

// report records the entry's criteria in the gate report and fails the spec
// when one is not met, with the figures and examples of each loss.
func report(r *rig, c counts, took time.Duration) {
	GinkgoHelper()
	figures := []struct {
		name string
		v    float64
	}{
		{"outcomes_missing", float64(c.OutcomesMissing)},
		{"receipts_unpublished", float64(c.ReceiptsUnpublished)},
		{"receipts_missing", float64(c.ReceiptsMissing)},
		{"receipts_wrong_message", float64(c.ReceiptsWrong)},
		{"parts_accepted_twice", float64(c.PartsTwice)},
		{"tps_breaches", float64(c.TPSBreaches)},
		{"recovery_seconds", c.RecoverySeconds},
	}
	var failed []string
	for _, f := range figures {
		crit := framework.CheckGate(r.e.Name+"_"+f.name, f.v)
		if !crit.Pass {
			failed = append(failed, crit.String())
		}
	}
	parts := 0
	for _, m := range r.msgs {
		parts += m.Parts
	}
	summary := fmt.Sprintf("%s: %d messages (%d parts) at %d TPS in %s; SMSC accepted %d submit_sm; outcomes %v (%d non-final events); "+
		"missing outcomes %d, receipts stored unpublished %d, receipts missing %d, on the wrong message %d, parts accepted twice %d, "+
		"TPS breaches %d (worst second %d%s), recovery %.2f s",
		r.e.Name, len(r.msgs), parts, r.e.TPS, took.Round(100*time.Millisecond), c.AcceptedBySim, c.Outcome, c.NonFinal,
		c.OutcomesMissing, c.ReceiptsUnpublished, c.ReceiptsMissing, c.ReceiptsWrong, c.PartsTwice, c.TPSBreaches, c.WorstSecond, cond(c.BreachSpan != "", ": "+c.BreachSpan), c.RecoverySeconds)
	AddReportEntry(r.e.Name, summary+"\nnotes: "+strings.Join(r.notes, "; ")+"\nexamples: "+strings.Join(c.Examples, "; "))
	fmt.Fprintf(GinkgoWriter, "%s\n  notes: %s\n  examples:\n    %s\n", summary, strings.Join(r.notes, "; "), strings.Join(c.Examples, "\n    "))
	if len(failed) > 0 {
		Fail(fmt.Sprintf("%s\n%s\nnotes: %s\nexamples:\n  %s", strings.Join(failed, "\n"), summary,
			strings.Join(r.notes, "; "), strings.Join(c.Examples, "\n  ")))
	}
}

func cond(ok bool, s string) string {
	if ok {
		return s
	}
	return ""
}
