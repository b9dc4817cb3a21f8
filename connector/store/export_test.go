package store

import (
	"context"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/internal/queuecursor"
)

// AppendSQL is the inbox's INSERT.
const AppendSQL = appendSQL

// SetQueueCursors gives the relay's and the drain's reads new cursors with
// this period of full reads.
func (s *Store) SetQueueCursors(fullEvery time.Duration) {
	s.newCursors(queuecursor.Options{FullEvery: fullEvery})
}

// CursorPositions are where the next reads of the live relay and of the
// drain start, if they are not full reads.
func (s *Store) CursorPositions() (outbox, inbox int64) {
	return s.outboxCursors[0].Position(), s.inboxCursor.Position()
}

// RecordOutcomeUnchecked is RecordOutcome without validation: a request
// that PostgreSQL refuses, to check that it fails alone.
func (s *Store) RecordOutcomeUnchecked(ctx context.Context, o Outcome) (OutcomeResult, error) {
	r, err := s.submit(ctx, &request{outcome: &o})
	return r.outcome, err
}

// Queries are the store's statements by name, for the plan checks.
var Queries = map[string]string{
	"prepare":       prepareSQL,
	"prepareSelect": prepareSelectSQL,
	"steal":         stealSQL,
	"outcome":       outcomeSQL,
	"held":          heldSQL,
	"lookup":        lookupSQL,
	"siblings":      siblingsSQL,
	"receiptUpdate": receiptUpdateSQL,
	"hold":          holdSQL,
	"expire":        expireSQL,
	"purge":         purgeSQL,
	"outboxSelect":  outboxSelectSQL,
	// The same, read above a cursor (a name of its own: the generic plan
	// check prepares each name once).
	"outboxSelectAbove": outboxSelectSQL,
	"receiptEvent":      receiptEventSQL,
	// Receipts after an SMSC restart (epoch.go).
	"sweepCandidates": sweepCandidatesSQL,
	"sweep":           sweepSQL,
	// The receipt inbox (inbox.go).
	"drain":      drainSQL,
	"drainAbove": drainSQL,
	"claim":      claimSQL,
	// Unmatched receipts (unmatched.go).
	"recordUnmatched": recordUnmatchedSQL,
	"rematch":         rematchSQL,
	"setAside":        setAsideSQL,
	"purgeUnmatched":  purgeUnmatchedSQL,
}

// Queued is how many requests wait in the queue, not yet taken by the
// collector: accepted by the store, not yet written.
func (s *Store) Queued() int { return len(s.queue) }

// Closing reports whether Close has begun (new requests get ErrClosed).
func (s *Store) Closing() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed
}

// DrainRowTwice reads the oldest inbox row and writes it twice in one
// transaction, as the last passes of a drain cut short by a stop can: the
// two copies' results.
func (s *Store) DrainRowTwice(ctx context.Context) ([]Matched, error) {
	var id int64
	if err := s.pool.QueryRow(ctx, `SELECT min(id) FROM smpp.receipt_inbox`).Scan(&id); err != nil {
		return nil, err
	}
	var rc Receipt
	var state string
	if err := s.pool.QueryRow(ctx, `SELECT operator_id, smsc_key, receipt_state, received_at FROM smpp.receipt_inbox
		WHERE id = $1`, id).Scan(&rc.OperatorID, &rc.SMSCKey, &state, &rc.Received); err != nil {
		return nil, err
	}
	rc.Status, rc.RawID, rc.inboxID = dlr.Status(state), rc.SMSCKey, id
	a, b := rc, rc
	batch := []*request{{receipt: &a, res: make(chan response, 1)}, {receipt: &b, res: make(chan response, 1)}}
	s.write(batch)
	out := make([]Matched, 0, 2)
	for _, r := range batch {
		res := <-r.res
		if res.err != nil {
			return nil, res.err
		}
		out = append(out, res.matched)
	}
	return out, nil
}

// Explain returns the plan of query on one of the store's own sessions (its
// runtime parameters: plan_cache_mode, random_page_cost).
func (s *Store) Explain(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := s.pool.Query(ctx, "EXPLAIN "+query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		plan = append(plan, line)
	}
	return plan, rows.Err()
}

// Setting returns a run-time parameter of one of the store's own sessions.
func (s *Store) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v)
	return v, err
}

// GenericPlans reports whether the writer's statements on
// message_correlations use generic plans (GenericPlanRows).
func (s *Store) GenericPlans() bool { return s.genericPlans.Load() }
