package store

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
)

// siblingsSQL reads the receipt state of every part of the messages.
const siblingsSQL = `
SELECT message_id, part_number, receipt_state FROM smpp.message_correlations
WHERE message_id = ANY($1::text[])`

// receiptUpdateSQL writes the parts' receipt states.
const receiptUpdateSQL = `
UPDATE smpp.message_correlations AS mc SET
	receipt_state   = CASE WHEN i.changed THEN i.state ELSE mc.receipt_state END,
	receipt_stat    = CASE WHEN i.changed THEN i.stat ELSE mc.receipt_stat END,
	receipt_err     = CASE WHEN i.changed THEN i.err ELSE mc.receipt_err END,
	receipt_at      = CASE WHEN i.changed THEN i.at ELSE mc.receipt_at END,
	receipt_done_at = CASE WHEN i.changed THEN i.done ELSE mc.receipt_done_at END,
	receipt_count   = mc.receipt_count + i.n,
	updated_at      = now()
FROM unnest($1::int8[], $2::bool[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
	$7::timestamptz[], $8::int4[]) AS i(id, changed, state, stat, err, at, done, n)
WHERE mc.id = i.id`

// holdSQL holds a receipt that no part (answered in its epoch) has the
// key of, with its epoch bounds and its candidate (candidate_id): the latest
// part submitted before the receipt came, answered within the horizon, that
// holds the key, or held it until a newer part took it (displaced_key: the
// receipt waited in the inbox while the SMSC gave the id again). The hold
// runs on the database's clock, which the sweep reads.
const holdSQL = `
INSERT INTO smpp.pending_receipts (operator_id, smsc_key, smsc_message_id, receipt_state,
	receipt_stat, receipt_err, done_at, received_at, raw, not_before, horizon, hold_until, candidate_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::timestamptz, $11,
	CASE WHEN $10::timestamptz IS NOT NULL THEN now() + make_interval(secs => $12) END,
	(SELECT c.id FROM (
		SELECT mc.id, mc.submitted_at FROM smpp.message_correlations AS mc
		WHERE mc.smsc_key = $2 AND mc.operator_id = $1 AND mc.resp_at >= $11 AND mc.submitted_at <= $8
		UNION ALL
		SELECT mc.id, mc.submitted_at FROM smpp.message_correlations AS mc
		WHERE mc.displaced_key = $2 AND mc.operator_id = $1 AND mc.resp_at >= $11 AND mc.submitted_at <= $8
	) AS c WHERE $10::timestamptz IS NOT NULL ORDER BY c.submitted_at DESC LIMIT 1))
RETURNING id`

// applyReceipts applies the receipts in order: the held ones first (they
// came first), by time received, then this batch's; a receipt without a
// part is to be held.
func (t *txn) applyReceipts() {
	sort.SliceStable(t.heldApps, func(a, b int) bool {
		x, y := t.heldApps[a], t.heldApps[b]
		if !x.receipt.Received.Equal(y.receipt.Received) {
			return x.receipt.Received.Before(y.receipt.Received)
		}
		return x.heldID < y.heldID
	})
	t.apps = t.heldApps
	for j, i := range t.rcs {
		if t.unclaimed(j) {
			continue // another drain applies it
		}
		if t.matchedTo[j] == nil {
			t.hold = append(t.hold, j)
			continue
		}
		t.apps = append(t.apps, &application{part: t.matchedTo[j], receipt: *t.batch[i].receipt, req: i})
	}
	t.multipart = map[string]bool{}
	for _, a := range t.apps {
		a.apply()
		if a.part.count > 1 {
			t.multipart[a.part.messageID] = true
		}
	}
}

// apply applies the receipt to its part (in memory) and fills a.m.
func (a *application) apply() {
	p := a.part
	d := decide(p.state, p.at, a.receipt.Status, a.receipt.Received)
	p.received++
	if d == Applied {
		p.changed = true
		p.state = a.receipt.Status
		p.stat, p.err = nullable(a.receipt.Stat), nullable(a.receipt.Err)
		p.at = a.receipt.Received
		p.done = nil
		if !a.receipt.Done.IsZero() {
			done := a.receipt.Done
			p.done = &done
		}
	}
	a.m = Matched{
		Disposition: d,
		HeldID:      a.heldID,
		OperatorID:  p.operatorID,
		MessageID:   p.messageID,
		Part:        p.number,
		PartCount:   p.count,
		SubmittedAt: p.submittedAt,
		State:       p.state,
	}
	if p.count <= 1 {
		a.m.PartsWithReceipt = 1
		if FinalReceiptStatus(p.state) {
			a.m.PartsFinal = 1
		}
	}
}

// decide applies the receipt rules (package doc, "Receipt rules") to a
// part in state current, set by a receipt received at currentAt, and a
// receipt next received at nextAt. Receipts are applied in the order they
// were received as far as the drain sees them, not further: two handlers
// append side by side, so the second receipt of a part may be applied
// first. An intermediate state received before the part's current one is
// therefore older news (Stale), not a step back; a final state always
// wins over an intermediate one, whatever the order.
func decide(current dlr.Status, currentAt time.Time, next dlr.Status, nextAt time.Time) Disposition {
	switch {
	case current == "":
		return Applied
	case FinalReceiptStatus(current):
		// The first final receipt stands, UNKNOWN too (SMPP's "message
		// is in invalid state", final): a part has one final event, so
		// which one it is cannot depend on the order two handlers took
		// two receipts in.
		if FinalReceiptStatus(next) {
			return Duplicate
		}
		return Stale
	case FinalReceiptStatus(next):
		return Applied
	case next == current:
		return Duplicate
	case nextAt.Before(currentAt):
		return Stale // an older intermediate state than the one applied
	default:
		return Applied // ENROUTE <-> ACCEPTED: the newer intermediate state
	}
}

// siblingSteps lock the multipart messages (lockSQL) and read their parts'
// receipt states (siblingsSQL), for the counts.
func (t *txn) siblingSteps() []step {
	msgIDs := make([]string, 0, len(t.multipart))
	locks := map[int32]bool{}
	for id := range t.multipart {
		msgIDs = append(msgIDs, id)
		locks[lockKey(id)] = true
	}
	read := step{sql: siblingsSQL, args: []any{msgIDs}, read: func(br pgx.BatchResults) error {
		rows, _ := br.Query()
		for rows.Next() {
			var (
				msg    string
				number int16
				state  *string
			)
			if err := rows.Scan(&msg, &number, &state); err != nil {
				rows.Close()
				return fmt.Errorf("read parts: %w", err)
			}
			if t.siblings[msg] == nil {
				t.siblings[msg] = map[int]dlr.Status{}
			}
			t.siblings[msg][int(number)] = dlr.Status(deref(state))
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read parts: %w", err)
		}
		return nil
	}}
	return []step{execStep("lock messages", lockSQL, messageLockSpace, sortedKeys(locks)), read}
}

// receiptUpdateStep writes the receipt states and counts of the parts that
// received receipts (receiptUpdateSQL); none: ok is false.
func (t *txn) receiptUpdateStep() (st step, ok bool) {
	var (
		ids         []int64
		changed     []bool
		states      []string
		stats, errs []*string
		ats         []time.Time
		dones       []*time.Time
		counts      []int32
	)
	for _, id := range slices.Sorted(maps.Keys(t.rowsByID)) {
		p := t.rowsByID[id]
		if p.received == 0 {
			continue
		}
		ids, changed, states = append(ids, p.id), append(changed, p.changed), append(states, string(p.state))
		stats, errs, ats = append(stats, p.stat), append(errs, p.err), append(ats, p.at)
		dones, counts = append(dones, p.done), append(counts, int32(p.received))
	}
	if len(ids) == 0 {
		return step{}, false
	}
	return execStep("store receipts", receiptUpdateSQL, ids, changed, states, stats, errs, ats, dones, counts), true
}

// holdSteps hold the receipts that matched no part (holdSQL), one
// statement each, reading their new ids.
func (t *txn) holdSteps() []step {
	t.heldIDs = make([]int64, len(t.hold))
	steps := make([]step, len(t.hold))
	for k, j := range t.hold {
		r := t.batch[t.rcs[j]].receipt
		var done *time.Time
		if !r.Done.IsZero() {
			done = &r.Done
		}
		steps[k] = step{sql: holdSQL, args: []any{r.OperatorID, r.SMSCKey, r.RawID, string(r.Status), nullable(r.Stat),
			nullable(r.Err), done, r.Received, []byte(r.Raw), timeOrNil(r.NotBefore), timeOrNil(r.Horizon),
			r.HoldFor.Seconds()}, read: func(br pgx.BatchResults) error {
			if err := br.QueryRow().Scan(&t.heldIDs[k]); err != nil {
				return fmt.Errorf("hold receipt: %w", err)
			}
			return nil
		}}
	}
	return steps
}

// countParts counts the parts with receipts of multipart messages as each
// receipt saw them (the message lock makes this transaction's receipts the
// only ones in between).
func (t *txn) countParts() {
	for _, a := range t.apps {
		if a.part.count <= 1 {
			continue
		}
		sib := t.siblings[a.part.messageID]
		if sib == nil {
			sib = map[int]dlr.Status{}
			t.siblings[a.part.messageID] = sib
		}
		sib[a.part.number] = a.m.State
		a.m.PartsWithReceipt, a.m.PartsFinal = 0, 0
		for _, st := range sib {
			if st != "" {
				a.m.PartsWithReceipt++
			}
			if FinalReceiptStatus(st) {
				a.m.PartsFinal++
			}
		}
	}
}

// results hands each receipt's match to its request (a held one to the
// outcome that released it), counts and logs.
func (t *txn) results() {
	for _, a := range t.apps {
		if a.held {
			t.res[a.req].outcome.Receipts = append(t.res[a.req].outcome.Receipts,
				HeldReceipt{ID: a.heldID, Receipt: a.receipt, Matched: a.m, HeldAt: a.heldAt})
		} else {
			t.res[a.req].matched = a.m
		}
	}
	for k, j := range t.hold {
		t.res[t.rcs[j]].matched = Matched{Disposition: Held, HeldID: t.heldIDs[k]}
	}
	s := t.s
	s.stats.held.Add(int64(len(t.hold)))
	if t.sweep >= 0 {
		s.stats.swept.Add(int64(len(t.heldApps)))
	} else {
		s.stats.released.Add(int64(len(t.heldApps)))
	}
	s.stats.displaced.Add(int64(len(t.displaced)))
	for _, d := range t.displaced {
		s.log.Warn("store: SMSC reused a message id; the newer part takes it",
			"smsc_key", d[0], "old_message_id", d[1], "old_part", d[2], "message_id", d[3], "part", d[4])
	}
}
