package store

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// stealSQL releases the SMSC key and raw id held by another part when an
// SMSC reuses an id: the newer accepted part takes them, provided its own
// row will take the outcome. The older part keeps the key as displaced_key:
// a receipt for it may still be in the inbox (holdSQL's candidate).
const stealSQL = `
WITH i AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int2[]) AS i(op, key, msg, part)
), holder AS (
	SELECT mc.id, i.msg, i.part, i.key
	FROM i JOIN smpp.message_correlations AS mc ON mc.operator_id = i.op AND mc.smsc_key = i.key
)
UPDATE smpp.message_correlations AS mc
SET displaced_key = mc.smsc_key, smsc_key = NULL, smsc_message_id = NULL, updated_at = now()
FROM holder AS h
WHERE mc.id = h.id
	AND (mc.message_id <> h.msg OR mc.part_number <> h.part)
	AND EXISTS (SELECT 1 FROM smpp.message_correlations AS t
		WHERE t.message_id = h.msg AND t.part_number = h.part AND t.operator_id = mc.operator_id
			AND t.submit_status <> 'accepted')
RETURNING mc.message_id, mc.part_number, h.msg, h.part, h.key`

// outcomeSQL applies outcomes where the transition is allowed (accepted >
// rejected > unknown > pending; rejected and unknown may repeat), writes the
// outcome event of each one applied to the outbox (the same statement, so
// the same transaction and no round trip more), and returns every found
// part: updated (true) or as it is (false). Only the three outcomes reach
// the outbox: a pending part has no event. A repeated rejected or unknown
// (applied again, with the latest command status) writes its event again,
// under the same JetStream message id: the stream's duplicate window drops
// it, and a consumer past it sees the same status twice. A part not updated because a
// concurrent transaction stored an outcome first (the update waited for it,
// then found the transition not allowed) is read with a lock (cur): that
// returns the row as that transaction stored it, where a plain read would
// return it as the statement's snapshot saw it, still pending. Only the rows
// not updated take that lock: rare (late or repeated answers). They are
// found first (a hashed NOT IN over upd) and looked up one by one (LATERAL):
// a join of every outcome with the table, then an anti join with upd, cost
// an index probe per outcome and a comparison per pair of them.
const outcomeSQL = `
WITH i AS (
	SELECT * FROM unnest($1::int4[], $2::text[], $3::text[], $4::int2[], $5::text[], $6::text[],
		$7::text[], $8::int4[], $9::int4[], $10::timestamptz[], $11::timestamptz[], $12::text[])
		AS i(ord, op, msg, part, kind, raw, key, cs, seq, at, submitted, detail)
), upd AS (
	UPDATE smpp.message_correlations AS mc SET
		submit_status   = i.kind,
		smsc_message_id = CASE WHEN i.kind = 'accepted' THEN i.raw ELSE mc.smsc_message_id END,
		smsc_key        = CASE WHEN i.kind = 'accepted' THEN i.key ELSE mc.smsc_key END,
		command_status  = i.cs,
		sequence_number = coalesce(i.seq, mc.sequence_number),
		submitted_at    = coalesce(i.submitted, mc.submitted_at),
		resp_at         = CASE WHEN i.kind = 'unknown' THEN mc.resp_at ELSE i.at END,
		updated_at      = now()
	FROM i
	WHERE mc.message_id = i.msg AND mc.part_number = i.part AND mc.operator_id = i.op
		AND ((CASE i.kind WHEN 'accepted' THEN 3 WHEN 'rejected' THEN 2 ELSE 1 END)
			> (CASE mc.submit_status WHEN 'accepted' THEN 3 WHEN 'rejected' THEN 2
				WHEN 'unknown' THEN 1 ELSE 0 END)
			OR (i.kind = mc.submit_status AND i.kind <> 'accepted'))
	RETURNING i.ord, ` + partColumns + `
), ev AS (
	INSERT INTO smpp.event_outbox (kind, operator_id, message_id, part_number, part_count, status,
		smsc_message_id, command_status, detail, submitted_at, at, shadow)
	SELECT 'outcome', u.operator_id, u.message_id, u.part_number, u.part_count, u.submit_status,
		u.smsc_message_id, u.command_status, nullif(i.detail, ''), u.submitted_at, coalesce(u.resp_at, i.at), $13
	FROM upd AS u JOIN i ON i.ord = u.ord
	ORDER BY u.ord
), cur AS (
	SELECT m.ord, l.*
	FROM i AS m
	CROSS JOIN LATERAL (SELECT ` + partColumns + ` FROM smpp.message_correlations AS mc
		WHERE mc.message_id = m.msg AND mc.part_number = m.part FOR SHARE) AS l
	WHERE m.ord NOT IN (SELECT ord FROM upd)
)
SELECT ord, true, ` + partColumnsBare + ` FROM upd
UNION ALL
SELECT ord, false, ` + partColumnsBare + ` FROM cur`

// acceptedKeys are the accepted outcomes of a batch as arrays (stealSQL's
// and heldSQL's arguments), in batch order.
type acceptedKeys struct {
	op, key, msg []string
	part         []int16
	idx          map[[2]string]int // (operator, key) -> batch index
}

func (a *acceptedKeys) add(o *Outcome, i int) {
	a.op, a.key = append(a.op, o.OperatorID), append(a.key, o.SMSCKey)
	a.msg, a.part = append(a.msg, o.MessageID), append(a.part, int16(o.Part))
	a.idx[[2]string{o.OperatorID, o.SMSCKey}] = i
}

func (a *acceptedKeys) len() int { return len(a.op) }

// stealStep releases the SMSC ids the accepted outcomes take from other
// parts (stealSQL), noting the displaced parts for the log.
func (t *txn) stealStep() step {
	a := &t.acc
	return step{sql: stealSQL, args: []any{a.op, a.key, a.msg, a.part}, read: func(br pgx.BatchResults) error {
		rows, _ := br.Query()
		for rows.Next() {
			var (
				oldMsg, newMsg, key string
				oldPart, newPart    int16
			)
			if err := rows.Scan(&oldMsg, &oldPart, &newMsg, &newPart, &key); err != nil {
				rows.Close()
				return fmt.Errorf("release reused SMSC ids: %w", err)
			}
			t.displaced = append(t.displaced, [5]any{key, oldMsg, oldPart, newMsg, newPart})
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("release reused SMSC ids: %w", err)
		}
		return nil
	}}
}

// outcomeStep stores the outcomes (outcomeSQL, in t.outs's order) and
// fills their results: the part's state, whether the outcome applied, or
// ErrNotPrepared.
func (t *txn) outcomeStep() step {
	n := len(t.outs)
	var (
		ord           = make([]int32, n)
		seq, cs       = make([]*int32, n), make([]*int32, n)
		op, msg, kind = make([]string, n), make([]string, n), make([]string, n)
		raw, key      = make([]*string, n), make([]*string, n)
		part          = make([]int16, n)
		at, submitted = make([]time.Time, n), make([]*time.Time, n)
		detail        = make([]string, n)
	)
	for j, i := range t.outs {
		o := t.batch[i].outcome
		ord[j], op[j], msg[j], part[j], kind[j] = int32(j), o.OperatorID, o.MessageID, int16(o.Part), string(o.Kind)
		if o.Kind == Accepted {
			raw[j], key[j] = &o.SMSCMessageID, &o.SMSCKey
		}
		if o.Kind != Unknown {
			v := int32(o.CommandStatus)
			cs[j] = &v
		}
		if o.SequenceNumber != 0 {
			v := int32(o.SequenceNumber)
			seq[j] = &v
		}
		at[j], detail[j] = o.At, o.Detail
		if !o.SubmittedAt.IsZero() {
			submitted[j] = &o.SubmittedAt
		}
	}
	return step{sql: outcomeSQL, args: []any{ord, op, msg, part, kind, raw, key, cs, seq, at, submitted, detail, t.s.opts.Shadow},
		read: func(br pgx.BatchResults) error {
			if err := t.readOutcomes(br); err != nil {
				return fmt.Errorf("store outcomes: %w", err)
			}
			return nil
		}}
}

func (t *txn) readOutcomes(br pgx.BatchResults) error {
	rows, _ := br.Query()
	found := make([]bool, len(t.outs))
	for rows.Next() {
		var (
			ord     int32
			applied bool
		)
		st, err := scanPart(rows, &ord, &applied)
		if err != nil {
			rows.Close()
			return err
		}
		i := t.outs[ord]
		o := t.batch[i].outcome
		found[ord] = true
		if st.OperatorID != o.OperatorID {
			t.res[i].err = fmt.Errorf("%w: %s part %d is stored for operator %s, not %s",
				ErrNotPrepared, o.MessageID, o.Part, st.OperatorID, o.OperatorID)
			continue
		}
		t.res[i].outcome = OutcomeResult{Applied: applied, State: st}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for j, ok := range found {
		if !ok {
			o := t.batch[t.outs[j]].outcome
			t.res[t.outs[j]].err = fmt.Errorf("%w: %s part %d", ErrNotPrepared, o.MessageID, o.Part)
		}
	}
	return nil
}
