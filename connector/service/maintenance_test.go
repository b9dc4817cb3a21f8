package service

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/store"
	"github.com/smpp-connector/smpp-connector/internal/testutil"
)

// The binds dropped and came back (a network cut): a receipt for a message
// sent before, whose id no newer message took, is held by its id epoch; once
// its hold has passed, maintenance attributes it to that message, with its
// event in the outbox, and counts it as late_matched. (The store's tests
// cover the rules; this is the service running them.)
func TestMaintenanceMatchesHeldReceiptsNoNewerPartClaimed(t *testing.T) {
	dsn := env.FreshDatabase(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sent := time.Now().Add(-5 * time.Minute)
	if _, err := st.PrepareParts(ctx, store.MessageRef{OperatorID: "mno-a", MessageID: "before-cut", PartCount: 1},
		[]store.PartRef{{Number: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordOutcome(ctx, store.Outcome{OperatorID: "mno-a", MessageID: "before-cut", Part: 1,
		Kind: store.Accepted, SMSCMessageID: "77", SubmittedAt: sent, At: sent}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	m0, err := st.MatchReceipt(ctx, store.Receipt{OperatorID: "mno-a", SMSCKey: "77", Status: dlr.Delivered, Received: now,
		NotBefore: now.Add(-time.Minute), Horizon: now.Add(-72 * time.Hour), HoldFor: time.Hour})
	if err != nil || m0.Disposition != store.Held {
		t.Fatalf("receipt after the binds came back: %+v %v", m0, err)
	}
	// The hour-long hold has passed (aged in the table, not slept through).
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, `UPDATE smpp.pending_receipts SET hold_until = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}

	m := metrics.New()
	var logs testutil.LogBuffer
	mctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		maintain(mctx, st, m, 50*time.Millisecond, time.Hour, 30*24*time.Hour, slog.New(slog.NewJSONHandler(&logs, nil)))
	}()
	defer func() { stop(); <-done }()
	testutil.WaitFor(t, 20*time.Second, 50*time.Millisecond, func() error {
		var state *string
		if err := c.QueryRow(ctx, `SELECT receipt_state FROM smpp.message_correlations WHERE message_id = 'before-cut'`).Scan(&state); err != nil {
			return err
		}
		if state == nil || *state != "DELIVERED" {
			return fmt.Errorf("receipt state %v", state)
		}
		return nil
	})
	var events int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM smpp.event_outbox WHERE kind = 'receipt' AND message_id = 'before-cut'`).Scan(&events); err != nil || events != 1 {
		t.Fatalf("%d receipt events for the message (%v), want 1", events, err)
	}
	if n := receiptsCounted(t, m, "mno-a", "late_matched"); n != 1 {
		t.Fatalf("late_matched %v, want 1", n)
	}
	if err := logs.WaitFor(`"receipts":1`, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// receiptsCounted reads smpp_receipts_total{operator, result} as a scrape would.
func receiptsCounted(t *testing.T, m *metrics.Metrics, operator, result string) float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "smpp_receipts_total" {
			continue
		}
		for _, c := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range c.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["operator"] == operator && labels["result"] == result {
				return c.GetCounter().GetValue()
			}
		}
	}
	return 0
}
