package store

import "context"

// RecordOutcomeUnchecked is RecordOutcome without validation: a request
// that PostgreSQL refuses, to check that it fails alone.
func (s *Store) RecordOutcomeUnchecked(ctx context.Context, o Outcome) (OutcomeResult, error) {
	r, err := s.submit(ctx, &request{outcome: &o})
	return r.outcome, err
}

// Queries are the store's statements by name, for the plan checks.
var Queries = map[string]string{
	"prepareInsert": prepareInsertSQL,
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
	"receiptEvent":  receiptEventSQL,
	// Receipts after an SMSC restart (epoch.go).
	"sweepCandidates": sweepCandidatesSQL,
	"sweep":           sweepSQL,
	// The receipt inbox (inbox.go).
	"drain": drainSQL,
	"claim": claimSQL,
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
