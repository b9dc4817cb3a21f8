package store

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
)

// rowColumns describe a matched part for receipts, table aliased mc.
const rowColumns = `mc.id, mc.operator_id, mc.message_id, mc.part_number, mc.part_count,
	mc.submitted_at, mc.receipt_state, mc.receipt_at`

// heldColumns are what a held receipt's row gives back when it is taken,
// table aliased p, followed by its part's rowColumns.
const heldColumns = `p.id, p.created_at, p.operator_id, p.smsc_key, p.smsc_message_id, p.receipt_state,
	p.receipt_stat, p.receipt_err, p.done_at, p.received_at, p.raw, ` + rowColumns

// heldSQL takes the held receipts for keys that a part now has (accepted
// in this transaction), unless that part was answered before the
// receipt's epoch bound (a late write of an older part's outcome), or was
// submitted after the receipt arrived. A receipt cannot precede its
// submit: it is an older part's. Either an older part held its key (the
// sweep gives it to that part), or none did: an early receipt of a part
// whose response was lost when the SMSC restarted, whose id the restarted
// SMSC then gave again (measured in the fault matrix's smsc_restart: it was
// released onto the new part); it stays held, and expires unmatched, as
// the receipt of a part whose outcome is unknown. Both times are the connector's clock: submitted_at is
// stamped before the submit_sm is written, received_at when the
// deliver_sm is read.
const heldSQL = `
DELETE FROM smpp.pending_receipts AS p
USING unnest($1::text[], $2::text[]) AS i(op, key), smpp.message_correlations AS mc
WHERE p.operator_id = i.op AND p.smsc_key = i.key
	AND mc.operator_id = p.operator_id AND mc.smsc_key = p.smsc_key
	AND (p.not_before IS NULL OR mc.resp_at >= p.not_before)
	AND (p.not_before IS NULL OR mc.submitted_at <= p.received_at)
RETURNING ` + heldColumns

// lookupSQL finds and locks the parts of receipts: the part holding the
// key, if its submit was answered at or after the receipt's NotBefore (a
// part holding the key from an earlier id epoch does not match) and was
// submitted before the receipt came (a receipt waits in the inbox for a
// moment: meanwhile a restarted SMSC may give its id to a new message).
const lookupSQL = `
SELECT i.ord, ` + rowColumns + `
FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[]) WITH ORDINALITY AS i(op, key, nb, rcv, ord)
JOIN smpp.message_correlations AS mc ON mc.operator_id = i.op AND mc.smsc_key = i.key
	AND (i.nb IS NULL OR (mc.resp_at >= i.nb AND mc.submitted_at <= i.rcv))
ORDER BY mc.id
FOR UPDATE OF mc`

// part is a correlation row a receipt applies to, as the flush sees it.
type part struct {
	id          int64
	operatorID  string
	messageID   string
	number      int
	count       int
	submittedAt time.Time
	state       dlr.Status // receipt state
	// at is when the receipt that set state was received (receipt_at):
	// read, then written with the state.
	at time.Time

	// To write.
	changed  bool
	received int // receipts seen in this flush
	stat     *string
	err      *string
	done     *time.Time

	scan *partScan
}

// dest are the scan destinations of rowColumns; call scanned after Scan.
func (p *part) dest() []any {
	p.scan = &partScan{}
	return []any{&p.id, &p.operatorID, &p.messageID, &p.scan.number, &p.scan.count, &p.scan.submitted, &p.scan.state, &p.scan.at}
}

func (p *part) scanned() {
	p.number, p.count = int(p.scan.number), int(p.scan.count)
	p.submittedAt, p.state = derefTime(p.scan.submitted), dlr.Status(deref(p.scan.state))
	p.at = derefTime(p.scan.at)
	p.scan = nil
}

type partScan struct {
	number, count int16
	submitted, at *time.Time
	state         *string
}

// application is one receipt applied to a part in this flush.
type application struct {
	part    *part
	receipt Receipt
	req     int  // batch index: the receipt's, or the outcome's for a held one
	held    bool // from smpp.pending_receipts
	heldID  int64
	heldAt  time.Time
	m       Matched
}

// keep returns the batch's one copy of the part p is a row of.
func (t *txn) keep(p *part) *part {
	if have, ok := t.rowsByID[p.id]; ok {
		return have
	}
	t.rowsByID[p.id] = p
	return p
}

// heldStep takes the receipts held for the accepted outcomes' keys
// (heldSQL) with their parts, as applications to the outcomes' requests.
func (t *txn) heldStep() step {
	return t.takeHeldStep(heldSQL, []any{t.acc.op, t.acc.key}, func(op, key string) int {
		return t.acc.idx[[2]string{op, key}]
	})
}

// takeHeldStep runs a statement that deletes held receipts and returns
// heldColumns (heldSQL, sweepSQL), and makes them applications to the
// request reqOf names.
func (t *txn) takeHeldStep(sql string, args []any, reqOf func(op, key string) int) step {
	return step{sql: sql, args: args, read: func(br pgx.BatchResults) error {
		rows, _ := br.Query()
		for rows.Next() {
			a := &application{held: true}
			var (
				p              part
				stat, errField *string
				done           *time.Time
				rawText        []byte
				status         string
			)
			dest := append([]any{&a.heldID, &a.heldAt, &a.receipt.OperatorID, &a.receipt.SMSCKey,
				&a.receipt.RawID, &status, &stat, &errField, &done, &a.receipt.Received, &rawText},
				p.dest()...)
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return fmt.Errorf("take held receipts: %w", err)
			}
			p.scanned()
			a.receipt.Stat, a.receipt.Err, a.receipt.Done = deref(stat), deref(errField), derefTime(done)
			a.receipt.Raw, a.receipt.Status = string(rawText), dlr.Status(status)
			a.part = t.keep(&p)
			a.req = reqOf(a.receipt.OperatorID, a.receipt.SMSCKey)
			t.heldApps = append(t.heldApps, a)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("take held receipts: %w", err)
		}
		return nil
	}}
}

// lookupStep finds and locks the parts of the batch's receipts
// (lookupSQL); a receipt whose part is not found is held in round 2.
func (t *txn) lookupStep() step {
	op, key := make([]string, len(t.rcs)), make([]string, len(t.rcs))
	nb, rcv := make([]*time.Time, len(t.rcs)), make([]time.Time, len(t.rcs))
	for j, i := range t.rcs {
		r := t.batch[i].receipt
		op[j], key[j], nb[j], rcv[j] = r.OperatorID, r.SMSCKey, timeOrNil(r.NotBefore), r.Received
	}
	t.matchedTo = make([]*part, len(t.rcs))
	return step{sql: lookupSQL, args: []any{op, key, nb, rcv}, read: func(br pgx.BatchResults) error {
		rows, _ := br.Query()
		for rows.Next() {
			var (
				ord int64
				p   part
			)
			if err := rows.Scan(append([]any{&ord}, p.dest()...)...); err != nil {
				rows.Close()
				return fmt.Errorf("find receipts' parts: %w", err)
			}
			p.scanned()
			t.matchedTo[ord-1] = t.keep(&p)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("find receipts' parts: %w", err)
		}
		return nil
	}}
}
