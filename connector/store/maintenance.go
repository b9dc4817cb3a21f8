package store

import (
	"context"
	"fmt"
	"time"
)

// expireSQL moves the receipts held for longer than $1 seconds, whose hold
// (by their id epoch) has passed, to the unmatched receipts (reason
// no_part), in one statement: nothing is lost in between. Those held by
// their epoch bound that are still within their hold wait for the sweep.
const expireSQL = `
WITH gone AS (
	DELETE FROM smpp.pending_receipts
	WHERE created_at < now() - make_interval(secs => $1) AND (hold_until IS NULL OR hold_until < now())
	RETURNING id, created_at, operator_id, smsc_key, smsc_message_id, receipt_state, receipt_stat, receipt_err,
		done_at, received_at, raw, not_before, horizon, hold_until, candidate_id
), kept AS (
	INSERT INTO smpp.unmatched_receipts (operator_id, reason, detail, smsc_key, smsc_message_id, receipt_state,
		receipt_stat, receipt_err, done_at, raw, received_at, not_before, horizon, hold_for, shadow, held_at)
	SELECT operator_id, 'no_part',
		CASE WHEN not_before IS NULL THEN 'no part took its key'
			WHEN candidate_id IS NULL THEN 'no part of its id epoch took its key, and none within its horizon held it'
			ELSE 'no part of its id epoch took its key; the one that held it was answered before its horizon' END,
		smsc_key, smsc_message_id, receipt_state, receipt_stat, receipt_err, done_at, coalesce(raw, ''::bytea),
		received_at, not_before, horizon, hold_until - created_at, $2, created_at
	FROM gone ORDER BY id
)
SELECT id, created_at, operator_id, smsc_key, smsc_message_id, receipt_state,
	receipt_stat, receipt_err, done_at, received_at, raw FROM gone`

// ExpirePendingReceipts gives up on the receipts held for longer than
// olderThan (their submit_sm_resp never came, or came for another
// connector's store that lost it; for receipts held by their id epoch, also
// once their hold has passed and the sweep did not apply them): it moves
// them to the unmatched receipts (reason NoPart, where RematchUnmatched
// finds them if their part appears) and returns them, so the caller counts
// and logs them.
func (s *Store) ExpirePendingReceipts(ctx context.Context, olderThan time.Duration) ([]HeldReceipt, error) {
	rows, err := s.pool.Query(ctx, expireSQL, olderThan.Seconds(), s.opts.Shadow)
	if err != nil {
		return nil, fmt.Errorf("store: expire held receipts: %w", err)
	}
	defer rows.Close()
	var out []HeldReceipt
	for rows.Next() {
		var (
			h          HeldReceipt
			stat, errf *string
			done       *time.Time
			raw        []byte
		)
		if err := rows.Scan(&h.ID, &h.HeldAt, &h.Receipt.OperatorID, &h.Receipt.SMSCKey, &h.Receipt.RawID,
			&h.Receipt.Status, &stat, &errf, &done, &h.Receipt.Received, &raw); err != nil {
			return nil, fmt.Errorf("store: expire held receipts: %w", err)
		}
		h.Receipt.Stat, h.Receipt.Err, h.Receipt.Done, h.Receipt.Raw = deref(stat), deref(errf), derefTime(done), string(raw)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: expire held receipts: %w", err)
	}
	return out, nil
}

// PendingReceipts returns how many receipts are held (a gauge).
func (s *Store) PendingReceipts(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM smpp.pending_receipts`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count held receipts: %w", err)
	}
	return n, nil
}

// purgeSQL deletes up to $2 finished rows created before $1. The inner scan
// goes through the BRIN index on created_at (block ranges of old rows only).
const purgeSQL = `
DELETE FROM smpp.message_correlations
WHERE id = ANY (ARRAY(
	SELECT id FROM smpp.message_correlations
	WHERE created_at < $1 AND submit_status <> 'pending'
	LIMIT $2))`

// DefaultPurgeBatch is Purge's batch size when batch <= 0.
const DefaultPurgeBatch = 5000

// moveSetAsideSQL moves the inbox rows an older connector set aside
// (failed) to the unmatched receipts, as migration 00010 did, in one
// statement.
const moveSetAsideSQL = `
WITH gone AS (
	DELETE FROM smpp.receipt_inbox WHERE failed IS NOT NULL
	RETURNING operator_id, failed, smsc_key, smsc_message_id, receipt_state, receipt_stat, receipt_err, done_at,
		raw, received_at, not_before, horizon, hold_for, shadow, created_at, id
)
INSERT INTO smpp.unmatched_receipts (operator_id, reason, detail, smsc_key, smsc_message_id, receipt_state,
	receipt_stat, receipt_err, done_at, raw, received_at, not_before, horizon, hold_for, shadow, recorded_at)
SELECT operator_id, 'failed', failed, smsc_key, smsc_message_id, receipt_state, receipt_stat, receipt_err,
	done_at, raw, received_at, not_before, horizon, hold_for, shadow, created_at
FROM gone ORDER BY id`

// Purge deletes the rows created more than olderThan ago whose submit
// outcome is recorded, batch rows per transaction, until none is left or ctx
// ends, and the unmatched receipts received as long ago (a receipt can be
// re-matched only while its part is kept), and returns how many it deleted.
// Rows still pending (a command never acked) are kept. See the package doc
// for the retention plan.
func (s *Store) Purge(ctx context.Context, olderThan time.Duration, batch int) (int64, error) {
	if batch <= 0 {
		batch = DefaultPurgeBatch
	}
	var cutoff time.Time
	if err := s.pool.QueryRow(ctx, `SELECT now() - make_interval(secs => $1)`, olderThan.Seconds()).Scan(&cutoff); err != nil {
		return 0, fmt.Errorf("store: purge: %w", err)
	}
	// Receipts a connector of the version before migration 00010 set aside
	// in the inbox (its failed column; it may still run during a rolling
	// deploy) go to the unmatched receipts, as the migration moved those
	// before it: kept and purged with the others, never deleted unseen.
	if _, err := s.pool.Exec(ctx, moveSetAsideSQL); err != nil {
		return 0, fmt.Errorf("store: move set-aside inbox receipts: %w", err)
	}
	// Those a shadow replica left (a live store never drains them: Phase 2
	// is over) are kept as long as the messages they were for.
	tag, err := s.pool.Exec(ctx, `DELETE FROM smpp.receipt_inbox WHERE shadow <> $2 AND created_at < $1`, cutoff, s.opts.Shadow)
	if err != nil {
		return 0, fmt.Errorf("store: purge shadow inbox receipts: %w", err)
	}
	total := tag.RowsAffected()
	for _, stmt := range []struct{ sql, what string }{{purgeUnmatchedSQL, "unmatched receipts"}, {purgeSQL, "correlations"}} {
		for {
			tag, err := s.pool.Exec(ctx, stmt.sql, cutoff, batch)
			if err != nil {
				return total, fmt.Errorf("store: purge %s: %w", stmt.what, err)
			}
			total += tag.RowsAffected()
			if tag.RowsAffected() < int64(batch) {
				break
			}
			if err := ctx.Err(); err != nil {
				return total, err
			}
		}
	}
	return total, nil
}
