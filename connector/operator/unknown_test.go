package operator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/smpp-connector/smpp-connector/connector/events"
	"github.com/smpp-connector/smpp-connector/connector/lease"
	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/store"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// strayRig is a replica's Strays on a real NATS server (embedded) and a
// real PostgreSQL (the leases), knowing mno-a only.
type strayRig struct {
	js      jetstream.JetStream
	dsn     string
	store   *store.Store // the replicas' list of configured operators
	m       *metrics.Metrics
	strays  *Strays
	leaseOf func(string) *lease.Lease
}

// strayReplica is the name the rig's replica lists its operators under.
const strayReplica = "replica-under-test"

// newStrayRig makes the rig; minAge 0 keeps the default (three sweeps).
func newStrayRig(t *testing.T, minAge time.Duration) *strayRig {
	return newStrayRigWithin(t, minAge, 0)
}

// newStrayRigWithin makes the rig with a KnownWithin (0: the default).
func newStrayRigWithin(t *testing.T, minAge, knownWithin time.Duration) *strayRig {
	t.Helper()
	_, js := testenv.ContractJetStream(t)
	r := &strayRig{js: js, dsn: env.FreshDatabase(t, true), m: metrics.New()}
	st, err := store.Open(context.Background(), r.dsn, store.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	r.store = st
	r.leaseOf = func(id string) *lease.Lease {
		return lease.New(r.dsn, LeaseName(id), lease.Options{Poll: 100 * time.Millisecond, Grace: 200 * time.Millisecond, Log: quiet()})
	}
	names := natscontract.DefaultNames()
	r.strays = NewStrays(StraysConfig{Known: []string{"mno-a"}, Lease: r.leaseOf, Every: 100 * time.Millisecond, MinAge: minAge,
		Roster: st, Replica: strayReplica, KnownWithin: knownWithin},
		Deps{JS: js, Names: names, Events: events.New(js, names, false, nil), Metrics: r.m, Log: quiet()})
	return r
}

// lastListed moves an operator's last listing back by ago (the database's
// clock), as if no replica had listed it since.
func (r *strayRig) lastListed(t *testing.T, operator string, ago time.Duration) {
	t.Helper()
	tag, err := r.store.Pool().Exec(context.Background(),
		`UPDATE smpp.configured_operators SET last_seen = now() - make_interval(secs => $2) WHERE operator_id = $1`, operator, ago.Seconds())
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("%s listed %s ago: %v (%d rows)", operator, ago, err, tag.RowsAffected())
	}
}

// deadLettered waits for a dead letter of the operator and returns them.
func (r *strayRig) deadLettered(t *testing.T, operator string) []events.DeadLetter {
	t.Helper()
	var dl []events.DeadLetter
	smpptest.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
		if dl = r.deadLetters(t, operator); len(dl) == 0 {
			return fmt.Errorf("no dead letter for %s yet", operator)
		}
		return nil
	})
	return dl
}

func (r *strayRig) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.strays.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// publish sends a command on an operator's dispatch subject and returns its
// stream sequence.
func (r *strayRig) publish(t *testing.T, operator, id string) uint64 {
	t.Helper()
	cmd := fmt.Sprintf(`{"messageId":%q,"operatorId":%q,"source":{"addr":"ACME","ton":5},"destination":{"addr":"447700900123"},"text":"hi"}`, id, operator)
	ack, err := r.js.Publish(context.Background(), natscontract.DispatchSubjectFor(operator), []byte(cmd))
	if err != nil {
		t.Fatal(err)
	}
	return ack.Sequence
}

// deadLetters reads the dead letters of an operator.
func (r *strayRig) deadLetters(t *testing.T, operator string) []events.DeadLetter {
	t.Helper()
	c, err := r.js.OrderedConsumer(context.Background(), natscontract.EventsStream,
		jetstream.OrderedConsumerConfig{FilterSubjects: []string{natscontract.DeadLetterSubjectFor(operator)}})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := c.FetchNoWait(100)
	if err != nil {
		t.Fatal(err)
	}
	var out []events.DeadLetter
	for m := range msgs.Messages() {
		var d events.DeadLetter
		if err := json.Unmarshal(m.Data(), &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// acked waits until the operator's durable consumer has acked every command
// up to seq, none awaiting an ack or redelivered.
func (r *strayRig) acked(t *testing.T, operator string, seq uint64) {
	t.Helper()
	smpptest.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
		c, err := r.js.Consumer(context.Background(), natscontract.DispatchStream, natscontract.ConsumerName(operator))
		if err != nil {
			return err
		}
		info, err := c.Info(context.Background())
		if err != nil {
			return err
		}
		if info.AckFloor.Stream < seq || info.NumAckPending != 0 || info.NumRedelivered != 0 {
			return fmt.Errorf("ack floor %d (want %d), %d awaiting ack, %d redelivered", info.AckFloor.Stream, seq, info.NumAckPending, info.NumRedelivered)
		}
		return nil
	})
}

// A command for an operator no replica configures goes to the dead letter
// with reason "unknown operator", is acked (terminated: never redelivered)
// and counted; a configured operator's command is left to its runner.
func TestUnknownOperatorCommandIsDeadLettered(t *testing.T) {
	r := newStrayRig(t, 0)
	known := r.publish(t, "mno-a", "a-1")
	seq := r.publish(t, "mno-z", "z-1")
	r.run(t)
	var dl []events.DeadLetter
	smpptest.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
		if dl = r.deadLetters(t, "mno-z"); len(dl) == 0 {
			return errors.New("no dead letter for mno-z yet")
		}
		return nil
	})
	if d := dl[0]; d.Reason != UnknownOperator || d.OperatorID != "mno-z" || d.Field != "operatorId" ||
		d.Subject != natscontract.DispatchSubjectFor("mno-z") || d.Command == "" {
		t.Fatalf("dead letter %+v", d)
	}
	r.acked(t, "mno-z", seq)
	if n := counterValue(r.m.UnknownOperator.WithLabelValues("mno-z")); n != 1 {
		t.Fatalf("smpp_unknown_operator_commands_total{operator=mno-z} = %v, want 1", n)
	}
	// Two more sweeps have seen mno-a's subject: its command is its runner's.
	after := r.strays.sweeps.Load()
	smpptest.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		if r.strays.sweeps.Load() < after+2 {
			return errors.New("sweeping")
		}
		return nil
	})
	if dl := r.deadLetters(t, "mno-a"); len(dl) != 0 {
		t.Fatalf("a configured operator's command was dead-lettered: %+v", dl)
	}
	if _, err := r.js.Consumer(context.Background(), natscontract.DispatchStream, natscontract.ConsumerName("mno-a")); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatalf("mno-a's consumer touched (command at sequence %d): %v", known, err)
	}
	if got := len(r.deadLetters(t, "mno-z")); got != 1 {
		t.Fatalf("%d dead letters for mno-z, want 1", got)
	}
}

// An operator this replica does not know but another replica runs (a
// rolling deploy adding it): while that replica holds the operator's lease
// its commands are its own, never dead-lettered here; once no replica that
// knows it runs, they are.
func TestUnknownOperatorRunByAnotherReplicaIsLeftAlone(t *testing.T) {
	r := newStrayRig(t, 0)
	// The other replica owns mno-b.
	owned, release, err := r.leaseOf("mno-b").Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	_ = owned
	seq := r.publish(t, "mno-b", "b-1")
	r.run(t)
	smpptest.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
		if !slices.Contains(r.strays.Standby(), "mno-b") {
			return fmt.Errorf("standing by for %v, want mno-b", r.strays.Standby())
		}
		return nil
	})
	// Waiting for the lease, so nothing taken: no dead letter, the
	// operator's consumer untouched.
	if dl := r.deadLetters(t, "mno-b"); len(dl) != 0 {
		t.Fatalf("the command of an operator another replica runs was dead-lettered: %+v", dl)
	}
	if _, err := r.js.Consumer(context.Background(), natscontract.DispatchStream, natscontract.ConsumerName("mno-b")); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatalf("mno-b's consumer touched: %v", err)
	}
	release() // the other replica stops
	smpptest.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
		if len(r.deadLetters(t, "mno-b")) == 0 {
			return errors.New("no dead letter for mno-b yet")
		}
		return nil
	})
	r.acked(t, "mno-b", seq)
}

// A command younger than MinAge is handed back, not dead-lettered: a turn
// that caught the lease in the instant its owner let go of it finds only
// commands that owner takes within seconds.
func TestYoungCommandsAreHandedBack(t *testing.T) {
	r := newStrayRig(t, time.Hour)
	seq := r.publish(t, "mno-y", "y-1")
	r.run(t)
	// A turn has had the command (delivered on the operator's consumer)
	// and is over...
	smpptest.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
		if r.strays.turns.Load() == 0 {
			return errors.New("no turn over yet")
		}
		c, err := r.js.Consumer(context.Background(), natscontract.DispatchStream, natscontract.ConsumerName("mno-y"))
		if err != nil {
			return err
		}
		info, err := c.Info(context.Background())
		if err != nil {
			return err
		}
		if info.Delivered.Stream < seq {
			return fmt.Errorf("delivered up to %d, want %d", info.Delivered.Stream, seq)
		}
		return nil
	})
	// ...and has handed it back rather than dead-letter it.
	if dl := r.deadLetters(t, "mno-y"); len(dl) != 0 {
		t.Fatalf("a command younger than MinAge was dead-lettered: %+v", dl)
	}
}

// An operator this replica does not know and no replica runs (its lease
// free), but which a replica listed as configured within KnownWithin: all
// its runners restarting in a rollout, crashed, or their replica down for
// minutes, while this replica (another version) does not know it. Its
// commands wait for them, however old, and its lease is left free for them:
// never dead-lettered as "unknown operator". An operator never listed, or
// last listed before the window, is dead-lettered as before; and so is the
// first once nobody has listed it for the window.
func TestStraysKeepCommandsOfAnOperatorConfiguredElsewhere(t *testing.T) {
	const minAge = 300 * time.Millisecond
	r := newStrayRigWithin(t, minAge, time.Hour)
	ctx := context.Background()
	// Replicas of the other version had mno-k and mno-o configured; mno-o's
	// were gone two hours ago, mno-k's a moment ago.
	if err := r.store.TouchOperators(ctx, "replica-other-version", []string{"mno-k", "mno-o"}); err != nil {
		t.Fatal(err)
	}
	r.lastListed(t, "mno-o", 2*time.Hour)
	kseq := r.publish(t, "mno-k", "k-1")
	oseq := r.publish(t, "mno-o", "o-1")
	useq := r.publish(t, "mno-u", "u-1")
	r.run(t)

	// Never listed, listed before the window: dead-lettered, once older
	// than MinAge.
	for op, seq := range map[string]uint64{"mno-u": useq, "mno-o": oseq} {
		if d := r.deadLettered(t, op)[0]; d.Reason != UnknownOperator || d.OperatorID != op {
			t.Fatalf("dead letter %+v", d)
		}
		r.acked(t, op, seq)
	}
	// mno-k's command, published before theirs, is older than MinAge too:
	// two more of its turns find it waiting and leave it (or one
	// dead-letters it).
	waits := r.strays.waits.Load()
	smpptest.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
		if n := r.strays.waits.Load(); n < waits+2 && len(r.deadLetters(t, "mno-k")) == 0 {
			return fmt.Errorf("%d turns left mno-k's commands waiting, want %d", n-waits, 2)
		}
		return nil
	})
	if dl := r.deadLetters(t, "mno-k"); len(dl) != 0 {
		t.Fatalf("the command of an operator configured on another replica was dead-lettered: %+v", dl)
	}
	// Not even taken: its consumer (and lease) are left to its runners.
	if _, err := r.js.Consumer(ctx, natscontract.DispatchStream, natscontract.ConsumerName("mno-k")); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatalf("mno-k's consumer touched (command at sequence %d): %v", kseq, err)
	}
	if got := r.strays.KnownElsewhere(); !slices.Equal(got, []string{"mno-k"}) {
		t.Fatalf("known elsewhere: %v, want mno-k", got)
	}
	if slices.Contains(r.strays.Standby(), "mno-k") {
		t.Fatalf("standing by for mno-k's lease: %v", r.strays.Standby())
	}
	if v := gaugeValue(r.m.StrayLastListed.WithLabelValues("mno-k")); v < minAge.Seconds() || v > 60 {
		t.Fatalf("smpp_stray_operator_last_listed_seconds{operator=mno-k} = %v, want the age of its listing", v)
	}
	// This replica lists its own operators, under its name.
	seen, err := r.store.OperatorsSeenWithin(ctx, time.Minute, "mno-a")
	if err != nil || seen["mno-a"].Replica != strayReplica {
		t.Fatalf("this replica's operators listed: %+v, %v", seen, err)
	}

	// No replica that has mno-k configured comes back: once nobody has
	// listed it for the window, its commands are dead-lettered.
	r.lastListed(t, "mno-k", 2*time.Hour)
	if d := r.deadLettered(t, "mno-k")[0]; d.Reason != UnknownOperator || d.OperatorID != "mno-k" {
		t.Fatalf("dead letter %+v", d)
	}
	r.acked(t, "mno-k", kseq)
	if n := counterValue(r.m.UnknownOperator.WithLabelValues("mno-k")); n != 1 {
		t.Fatalf("smpp_unknown_operator_commands_total{operator=mno-k} = %v, want 1", n)
	}
	smpptest.Eventually(t, 5*time.Second, 20*time.Millisecond, func() error {
		if got := r.strays.KnownElsewhere(); len(got) != 0 {
			return fmt.Errorf("known elsewhere: %v, want none", got)
		}
		if n := seriesCount(r.m.StrayLastListed); n != 0 {
			return fmt.Errorf("%d smpp_stray_operator_last_listed_seconds series, want none", n)
		}
		return nil
	})
}

func TestOperatorOfSubject(t *testing.T) {
	for _, tc := range []struct{ template, subject, want string }{
		{natscontract.DispatchSubject, "smpp.operator.mno-z", "mno-z"},
		{"smpp.{id}.mt", "smpp.mno-z.mt", "mno-z"},
		{natscontract.DispatchSubject, "smpp.operator.", ""},
		{natscontract.DispatchSubject, "smpp.other.mno-z", ""},
		{"smpp.{id}.mt", "smpp.a.b.mt", ""},
	} {
		if got, ok := operatorOf(tc.template, tc.subject); got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s in %s: %q %v, want %q", tc.subject, tc.template, got, ok, tc.want)
		}
	}
}

// seriesCount is how many series a collector has.
func seriesCount(c prometheus.Collector) int {
	ch := make(chan prometheus.Metric, 64)
	go func() { c.Collect(ch); close(ch) }()
	n := 0
	for range ch {
		n++
	}
	return n
}

func gaugeValue(g prometheus.Gauge) float64 {
	var m dto.Metric
	_ = g.Write(&m)
	return m.GetGauge().GetValue()
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	return m.GetCounter().GetValue()
}

// An operator another replica runs (holds its lease) and lists is the
// usual case in a rolling deploy, not an alarm: standing by, no "known
// elsewhere" state, no gauge, nothing taken. When its runner stops, its
// commands wait for it (known elsewhere, the gauge set), not dead-lettered.
func TestOperatorRunAndListedByAnotherReplicaRaisesNoAlarm(t *testing.T) {
	r := newStrayRigWithin(t, 300*time.Millisecond, time.Hour)
	ctx := context.Background()
	_, release, err := r.leaseOf("mno-r").Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	if err := r.store.TouchOperators(ctx, "replica-running-it", []string{"mno-r"}); err != nil {
		t.Fatal(err)
	}
	r.publish(t, "mno-r", "r-1")
	r.run(t)
	// Several turns after the command is older than MinAge.
	time.Sleep(300 * time.Millisecond)
	sweeps := r.strays.sweeps.Load()
	smpptest.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
		if n := r.strays.sweeps.Load(); n < sweeps+3 || !slices.Contains(r.strays.Standby(), "mno-r") {
			return fmt.Errorf("%d sweeps, standing by for %v; want 3 and mno-r", n-sweeps, r.strays.Standby())
		}
		return nil
	})
	if got := r.strays.KnownElsewhere(); len(got) != 0 {
		t.Fatalf("known elsewhere while its runner holds the lease: %v", got)
	}
	if n := seriesCount(r.m.StrayLastListed); n != 0 {
		t.Fatalf("%d smpp_stray_operator_last_listed_seconds series while its runner holds the lease", n)
	}
	if _, err := r.js.Consumer(ctx, natscontract.DispatchStream, natscontract.ConsumerName("mno-r")); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatalf("mno-r's consumer touched: %v", err)
	}
	release() // its runner stops
	smpptest.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
		if got := r.strays.KnownElsewhere(); !slices.Equal(got, []string{"mno-r"}) {
			return fmt.Errorf("known elsewhere: %v, want mno-r", got)
		}
		if n := seriesCount(r.m.StrayLastListed); n != 1 {
			return fmt.Errorf("%d smpp_stray_operator_last_listed_seconds series, want 1", n)
		}
		return nil
	})
	if dl := r.deadLetters(t, "mno-r"); len(dl) != 0 {
		t.Fatalf("dead-lettered: %+v", dl)
	}
}
