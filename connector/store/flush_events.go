package store

import (
	"time"
)

// receiptEventSQL writes receipt events to the outbox, in the order the
// receipts were applied.
const receiptEventSQL = `
INSERT INTO smpp.event_outbox (kind, operator_id, message_id, part_number, part_count, status,
	smsc_message_id, stat, err, parts_received, submitted_at, done_at, at, shadow)
SELECT 'receipt', i.op, i.msg, i.part, i.count, i.status, i.raw, i.stat, i.err, i.received,
	i.submitted, i.done, i.at, $13
FROM unnest($1::text[], $2::text[], $3::int2[], $4::int2[], $5::text[], $6::text[], $7::text[],
	$8::text[], $9::int2[], $10::timestamptz[], $11::timestamptz[], $12::timestamptz[])
	WITH ORDINALITY AS i(op, msg, part, count, status, raw, stat, err, received, submitted, done, at, ord)
ORDER BY i.ord`

// receiptEventSteps write the event of every receipt applied in this
// transaction (receiptEventSQL): duplicates and stale receipts change
// nothing and have none; held ones have theirs when they are matched.
func (t *txn) receiptEventSteps() []step {
	var (
		op, msg, status, raw  []string
		stat, errs            []*string
		part, count, received []int16
		submitted, done       []*time.Time
		at                    []time.Time
	)
	for _, a := range t.apps {
		if a.m.Disposition != Applied {
			continue
		}
		r, p := a.receipt, a.part
		op, msg, status, raw = append(op, p.operatorID), append(msg, p.messageID), append(status, string(r.Status)), append(raw, r.RawID)
		stat, errs = append(stat, nullable(r.Stat)), append(errs, nullable(r.Err))
		part, count, received = append(part, int16(p.number)), append(count, int16(p.count)), append(received, int16(a.m.PartsWithReceipt))
		submitted, done, at = append(submitted, timeOrNil(p.submittedAt)), append(done, timeOrNil(r.Done)), append(at, r.Received)
	}
	if len(op) == 0 {
		return nil
	}
	t.events += len(op)
	return []step{execStep("write receipt events", receiptEventSQL, op, msg, part, count, status, raw, stat, errs,
		received, submitted, done, at, t.s.opts.Shadow)}
}

func timeOrNil(v time.Time) *time.Time {
	if v.IsZero() {
		return nil
	}
	return &v
}

// appliedMultipart reports whether a receipt was applied to a part of a
// multipart message: its event needs the message's count of parts with a
// receipt, read in round 2 (a duplicate or stale receipt writes no event).
func (t *txn) appliedMultipart() bool {
	for _, a := range t.apps {
		if a.part.count > 1 && a.m.Disposition == Applied {
			return true
		}
	}
	return false
}
