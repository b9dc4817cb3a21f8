package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Receipts held by their epoch bound (Receipt.NotBefore) wait for a newer
// part to take their key; when none has once their hold has passed (or one
// did that was submitted after the receipt arrived), the binds had dropped
// for a network cut rather than an SMSC restart (or the SMSC delivered a
// receipt of a message sent before its restart), and the receipt belongs
// to the part that held the key when it was held (its candidate). SweepHeldReceipts
// applies them to that part, inside the receipt horizon, through the flush
// machinery: the same key locks, receipt rules, state update and outbox
// event as a receipt matched on arrival.

// sweepCandidatesSQL finds keys of held receipts whose hold has passed and
// whose candidate (the older part that held the key when the receipt was
// held) is still within the receipt's horizon. The candidate is found by
// its id: a newer part may have taken the key from it since.
const sweepCandidatesSQL = `
SELECT DISTINCT p.operator_id, p.smsc_key
FROM smpp.pending_receipts AS p
JOIN smpp.message_correlations AS mc ON mc.id = p.candidate_id
WHERE p.hold_until < now() AND mc.resp_at >= p.horizon
LIMIT $1`

// sweepSQL takes those receipts, under the keys' locks (so checked again:
// an outcome may have released them meanwhile), with their parts.
const sweepSQL = `
DELETE FROM smpp.pending_receipts AS p
USING unnest($1::text[], $2::text[]) AS i(op, key), smpp.message_correlations AS mc
WHERE p.operator_id = i.op AND p.smsc_key = i.key AND p.hold_until < now()
	AND mc.id = p.candidate_id AND mc.resp_at >= p.horizon
RETURNING ` + heldColumns

// sweepBatch is how many keys one sweep transaction takes.
const sweepBatch = 500

// sweepRequest is one sweep transaction's keys.
type sweepRequest struct {
	op, key []string
}

// sweepStep takes the swept receipts (sweepSQL) as applications to the
// sweep's request.
func (t *txn) sweepStep() step {
	r := t.batch[t.sweep].sweep
	return t.takeHeldStep(sweepSQL, []any{r.op, r.key}, func(string, string) int { return t.sweep })
}

// SweepHeldReceipts applies the receipts held by their epoch bound whose
// hold (Receipt.HoldFor) has passed without a newer part taking their key
// to the part that holds it, if that part's submit was answered within the
// receipt's horizon (Receipt.Horizon); their events are written to the
// outbox in the same transaction. It returns them (Matched says what each
// did). The others stay held until ExpirePendingReceipts. Several replicas
// may run it at once.
func (s *Store) SweepHeldReceipts(ctx context.Context) ([]HeldReceipt, error) {
	var out []HeldReceipt
	for {
		rows, _ := s.pool.Query(ctx, sweepCandidatesSQL, sweepBatch)
		req := &sweepRequest{}
		var op, key string
		if _, err := pgx.ForEachRow(rows, []any{&op, &key}, func() error {
			req.op, req.key = append(req.op, op), append(req.key, key)
			return nil
		}); err != nil {
			return out, fmt.Errorf("store: sweep held receipts: %w", err)
		}
		if len(req.op) == 0 {
			return out, nil
		}
		wctx, cancel := context.WithTimeout(ctx, s.opts.FlushTimeout)
		res, err := s.writeRetrying(wctx, []*request{{sweep: req}})
		cancel()
		if err != nil {
			return out, fmt.Errorf("store: sweep held receipts: %w", err)
		}
		swept := res[0].outcome.Receipts
		out = append(out, swept...)
		if len(req.op) < sweepBatch || len(swept) == 0 {
			return out, nil
		}
	}
}
