package relay_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/events"
	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/relay"
	"github.com/smpp-connector/smpp-connector/connector/store"
	"github.com/smpp-connector/smpp-connector/internal/testutil"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
)

var env *testenv.TestEnv

func TestMain(m *testing.M) {
	os.Exit(testenv.RunWithServices(m, testenv.Services{Postgres: true}, &env))
}

// NATS is stopped while outcomes are stored, and started again on its data:
// every event reaches the stream exactly once, none while it was down is
// lost, and the outbox is empty after.
func TestEventsStoredWhileNATSIsDownArePublishedOnceWhenItIsBack(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, env.FreshDatabase(t, true), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)

	dir := t.TempDir()
	srv, err := testenv.StartNATS("127.0.0.1", -1, dir)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(srv.URL())
	port, _ := strconv.Atoi(u.Port())
	nc, err := nats.Connect(srv.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	if err := natscontract.EnsureStreams(ctx, js, natscontract.DefaultNames()); err != nil {
		t.Fatal(err)
	}

	m := metrics.New()
	rel := relay.New(st, events.New(js, natscontract.DefaultNames(), false, nil), m, nil,
		relay.Options{Poll: 50 * time.Millisecond, StatsEvery: 50 * time.Millisecond, PublishTimeout: time.Second})
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { rel.Run(rctx); close(done) }()
	t.Cleanup(func() { stop(); <-done })

	record := func(from, to int) {
		for i := from; i < to; i++ {
			msg := fmt.Sprint("m", i)
			if _, err := st.PrepareParts(ctx, store.MessageRef{OperatorID: "mno-a", MessageID: msg, PartCount: 1},
				[]store.PartRef{{Number: 1}}); err != nil {
				t.Fatal(err)
			}
			if _, err := st.RecordOutcome(ctx, store.Outcome{OperatorID: "mno-a", MessageID: msg, Part: 1,
				Kind: store.Accepted, SMSCKey: fmt.Sprint("k", i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	outcomes := func() (uint64, error) {
		s, err := js.Stream(ctx, natscontract.EventsStream)
		if err != nil {
			return 0, err
		}
		info, err := s.Info(ctx, jetstream.WithSubjectFilter(natscontract.OutcomeSubjectFor("mno-a")))
		if err != nil {
			return 0, err
		}
		return info.State.Subjects[natscontract.OutcomeSubjectFor("mno-a")], nil
	}
	waitOutcomes := func(want uint64) {
		t.Helper()
		testutil.WaitFor(t, 30*time.Second, 50*time.Millisecond, func() error {
			if n, err := outcomes(); err != nil || n != want {
				return fmt.Errorf("%d outcome events (%v), want %d", n, err, want)
			}
			return nil
		})
	}

	record(0, 50)
	waitOutcomes(50)

	srv.Shutdown() // its data stays in dir
	record(50, 150)
	testutil.WaitFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		if s := rel.Status(); s.LastError == "" || s.Pending < 100 {
			return fmt.Errorf("status %+v: want a publish failure and 100 events waiting", s)
		}
		return nil
	})

	srv, err = testenv.StartNATS("127.0.0.1", port, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	waitOutcomes(150)
	testutil.WaitFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		if s := rel.Status(); s.Pending != 0 || s.LastError != "" {
			return fmt.Errorf("status %+v: want an empty outbox and no error", s)
		}
		return nil
	})
	// Flush, then the count again: nothing more arrives (no duplicate).
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if n, _ := outcomes(); n != 150 {
		t.Fatalf("%d outcome events, want 150", n)
	}
}
