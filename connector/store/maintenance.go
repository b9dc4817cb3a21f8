package store

import (
	"context"
	"fmt"
	"time"
)

// expireSQL removes the receipts held for longer than $1 seconds.
const expireSQL = `
DELETE FROM smpp.pending_receipts
WHERE created_at < now() - make_interval(secs => $1)
RETURNING id, created_at, operator_id, smsc_key, smsc_message_id, receipt_state,
	receipt_stat, receipt_err, done_at, received_at, raw`

// ExpirePendingReceipts removes the receipts held for longer than olderThan
// (their submit_sm_resp never came, or came for another connector's store
// that lost it) and returns them, so the caller counts and logs them.
func (s *Store) ExpirePendingReceipts(ctx context.Context, olderThan time.Duration) ([]HeldReceipt, error) {
	rows, err := s.pool.Query(ctx, expireSQL, olderThan.Seconds())
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

// Purge deletes the rows created more than olderThan ago whose submit
// outcome is recorded, batch rows per transaction, until none is left or ctx
// ends, and the receipts set aside in the inbox as long ago, and returns how
// many it deleted. Rows still pending (a command never
// acked) are kept. See the package doc for the retention plan.
func (s *Store) Purge(ctx context.Context, olderThan time.Duration, batch int) (int64, error) {
	if batch <= 0 {
		batch = DefaultPurgeBatch
	}
	var cutoff time.Time
	if err := s.pool.QueryRow(ctx, `SELECT now() - make_interval(secs => $1)`, olderThan.Seconds()).Scan(&cutoff); err != nil {
		return 0, fmt.Errorf("store: purge: %w", err)
	}
	// Receipts set aside in the inbox (DrainInbox could not store them)
	// are kept as long as the messages they were for, and so are those a
	// shadow replica left (a live store never drains them: Phase 2 is over).
	tag, err := s.pool.Exec(ctx, `DELETE FROM smpp.receipt_inbox
		WHERE (failed IS NOT NULL OR shadow <> $2) AND created_at < $1`, cutoff, s.opts.Shadow)
	if err != nil {
		return 0, fmt.Errorf("store: purge failed inbox receipts: %w", err)
	}
	total := tag.RowsAffected()
	for {
		tag, err := s.pool.Exec(ctx, purgeSQL, cutoff, batch)
		if err != nil {
			return total, fmt.Errorf("store: purge: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < int64(batch) {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}
