package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/store"
	"github.com/smpp-connector/smpp-connector/internal/testutil"
)

// Two outcomes of one part written at once by two flushers (two deliveries
// of one command, two replicas): the one that does not apply returns the
// state stored by the other, not the state its statement's snapshot saw
// before the other committed (an outcome event "pending" was published so).
// Both flushers are made to wait on a row lock taken by the test, then
// released together.
func TestOutcomeNotAppliedReturnsTheStateStoredMeanwhile(t *testing.T) {
	s, dsn := open(t, store.Options{Flushers: 2, Linger: time.Millisecond})
	prepare(t, s, "op", "race-1", 1)
	lock := connect(t, dsn)
	ctx := ctxT(t)
	tx, err := lock.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, `SELECT 1 FROM smpp.message_correlations WHERE message_id = 'race-1' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	watch := connect(t, dsn)
	waiting := func(n int) func() error {
		return func() error {
			var got int
			if err := watch.QueryRow(ctx, `SELECT count(DISTINCT l.pid) FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid WHERE NOT l.granted AND a.datname = current_database()`).Scan(&got); err != nil {
				return err
			}
			if got != n {
				return fmt.Errorf("%d flushes waiting on the part's row, want %d", got, n)
			}
			return nil
		}
	}
	type result struct {
		r   store.OutcomeResult
		err error
	}
	results := make(chan result, 2)
	record := func(smscID string) {
		r, err := s.RecordOutcome(ctx, store.Outcome{OperatorID: "op", MessageID: "race-1", Part: 1, Kind: store.Accepted, SMSCMessageID: smscID})
		results <- result{r, err}
	}
	go record("smsc-a")
	testutil.WaitFor(t, 20*time.Second, 5*time.Millisecond, waiting(1))
	// In a batch of its own, on the other flusher.
	go record("smsc-b")
	testutil.WaitFor(t, 20*time.Second, 5*time.Millisecond, waiting(2))
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var applied int
	for range 2 {
		res := <-results
		if res.err != nil {
			t.Fatal(res.err)
		}
		if res.r.Applied {
			applied++
		}
		if res.r.State.Status != store.Accepted {
			t.Errorf("outcome (applied %v) returned the part %s, want accepted as stored", res.r.Applied, res.r.State.Status)
		}
	}
	if applied != 1 {
		t.Errorf("%d of two accepted outcomes applied, want 1", applied)
	}
	var n int
	if err := watch.QueryRow(ctx, `SELECT count(*) FROM smpp.message_correlations WHERE message_id = 'race-1' AND submit_status = 'accepted'`).Scan(&n); err != nil || n != 1 {
		t.Fatal(errors.Join(err, fmt.Errorf("%d accepted rows", n)))
	}
}

// A part another transaction is inserting when PrepareParts runs: the
// prepare waits for it, skips it, and returns it as that transaction
// stored it (read by a statement of its own: the insert's snapshot does not
// have it), beside the part it created itself.
func TestPrepareReturnsAPartInsertedConcurrently(t *testing.T) {
	s, dsn := open(t, store.Options{})
	ctx := ctxT(t)
	other := connect(t, dsn)
	tx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, `INSERT INTO smpp.message_correlations
		(operator_id, message_id, part_number, part_count, sequence_number, submitted_at)
		VALUES ('op', 'race-p', 1, 2, 77, now())`); err != nil {
		t.Fatal(err)
	}
	type result struct {
		parts []store.PartState
		err   error
	}
	done := make(chan result, 1)
	go func() {
		parts, err := s.PrepareParts(ctx, store.MessageRef{OperatorID: "op", MessageID: "race-p", PartCount: 2},
			[]store.PartRef{{Number: 1, SequenceNumber: 5}, {Number: 2, SequenceNumber: 6}})
		done <- result{parts, err}
	}()
	watch := connect(t, dsn)
	testutil.WaitFor(t, 20*time.Second, 5*time.Millisecond, func() error {
		var n int
		if err := watch.QueryRow(ctx, `SELECT count(*) FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
			WHERE NOT l.granted AND a.datname = current_database()`).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errors.New("the prepare does not wait for the other transaction's part yet")
		}
		return nil
	})
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.parts) != 2 {
		t.Fatalf("parts %+v, want 2", res.parts)
	}
	if p := res.parts[0]; p.Part != 1 || p.Created || p.SequenceNumber != 77 {
		t.Errorf("part 1 %+v: want the other transaction's row (not created here, sequence 77)", p)
	}
	if p := res.parts[1]; p.Part != 2 || !p.Created || p.SequenceNumber != 6 {
		t.Errorf("part 2 %+v: want created here with sequence 6", p)
	}
}
