package outbound_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smpp-connector/smpp-connector/connector/internal/pipelinetest"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/outbound"
)

// Operator.Sending bounds the parts prepared and not yet answered (what a
// kill -9 would leave to afterCrash) while more commands are in hand: at 4
// TPS, eight commands handled at once, two may be sending; the rest wait
// before their prepare, with nothing stored.
func TestSendingBoundsThePartsPreparedAndNotAnswered(t *testing.T) {
	dsn := pipelinetest.FreshDatabase(t)
	r := newRig(t, pipelinetest.Options{DSN: dsn, TPS: 4, Outbound: outbound.Operator{Concurrency: 8, Sending: 2}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)

	const n = 8
	for i := range n {
		r.Publish(t, fmt.Sprintf("sending-%d", i), "one part")
	}
	most := 0
	deadline := time.Now().Add(45 * time.Second)
	for {
		var pending, done int
		err := db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE submit_status = 'pending'),
			count(*) FILTER (WHERE submit_status <> 'pending') FROM smpp.message_correlations`).Scan(&pending, &done)
		if err != nil {
			t.Fatal(err)
		}
		most = max(most, pending)
		if done == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d commands answered after 45s", done, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if most > 2 {
		t.Errorf("%d parts prepared and not answered at once, want at most Sending (2)", most)
	}
	// Not vacuous: at 4 TPS a prepared part waits about 250 ms for its
	// grant, so two at once were seen.
	if most < 2 {
		t.Errorf("at most %d part prepared and not answered at once: the bound was never reached", most)
	}
	if out := r.WaitEvents(t, natscontract.EventsStream, natscontract.OutcomeSubjectFor("mno-a"), n); len(out) != n {
		t.Fatalf("%d outcome events for %d commands", len(out), n)
	}
}
