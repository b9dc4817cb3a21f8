package store

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Unmatched receipts (smpp.unmatched_receipts, migration 00010): see the
// package doc, "Unmatched receipts".

// UnmatchedReason says why a receipt answered to the SMSC was not applied
// to a part (column reason).
type UnmatchedReason string

// Unmatched reasons.
const (
	// Unparseable: connector/dlr could not read it as a receipt (no id, no
	// recognisable status). Recorded by connector/inbound (RecordUnmatched).
	Unparseable UnmatchedReason = "unparseable"
	// InvalidReceipt: read, but refused by the store (AppendReceipt's
	// ErrInvalid: an id longer than MaxIDLength, a time out of range).
	// Recorded by connector/inbound (RecordUnmatched).
	InvalidReceipt UnmatchedReason = "invalid"
	// NoPart: held (before its submit_sm_resp, or by its id epoch) and no
	// part took it before ExpirePendingReceipts gave up. Moved by the store.
	NoPart UnmatchedReason = "no_part"
	// SetAside: its drain transaction failed alone with an error a retry
	// cannot fix (DrainInbox, Drained.Failed). Moved by the store.
	SetAside UnmatchedReason = "failed"
)

func (r UnmatchedReason) valid() bool {
	switch r {
	case Unparseable, InvalidReceipt, NoPart, SetAside:
		return true
	}
	return false
}

// PDUKind is the SMPP operation a receipt came in (column pdu).
type PDUKind string

// PDU kinds.
const (
	DeliverSM PDUKind = "deliver_sm"
	DataSM    PDUKind = "data_sm"
)

// UnmatchedReceipt is a receipt the caller answers to the SMSC without
// appending it to the inbox (RecordUnmatched).
type UnmatchedReceipt struct {
	Reason UnmatchedReason // Unparseable or InvalidReceipt
	// Detail says why: the parser's or the store's error.
	Detail string
	// Receipt is what was read of it: OperatorID always, Raw (the
	// short_message or message_payload as received, any bytes) and Received
	// (zero: now); the id, key, status, stat, err, done date and epoch
	// bounds as far as they were read. Kept as read: nothing but the
	// operator id is refused (a text that is not UTF-8 is stored with
	// U+FFFD for the bad bytes, an id longer than MaxIDLength cut; Raw
	// keeps the original bytes).
	Receipt Receipt
	// The PDU as received.
	PDU        PDUKind // "" when unknown
	EsmClass   uint8
	DataCoding uint8
	TLVs       map[uint16][]byte // optional parameters by tag
}

// recordUnmatchedSQL inserts one unmatched receipt, committed by itself.
const recordUnmatchedSQL = `
INSERT INTO smpp.unmatched_receipts (operator_id, reason, detail, smsc_key, smsc_message_id, receipt_state,
	receipt_stat, receipt_err, done_at, pdu, esm_class, data_coding, raw, tlvs, received_at, not_before,
	horizon, hold_for, shadow)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15, $16, $17,
	CASE WHEN $16::timestamptz IS NOT NULL THEN make_interval(secs => $18) END, $19)`

// RecordUnmatched stores a receipt that cannot be appended to the inbox
// (it could not be parsed, or AppendReceipt refused it) and returns once it
// is committed: answer the deliver_sm ESME_ROK only then, and ask for it
// again (ESME_RX_T_APPN) when it returns an error. ErrInvalid (nothing
// written) only for an empty or unstorable operator id, an unknown reason
// or PDU kind: the caller's mistake, not the receipt's.
func (s *Store) RecordUnmatched(ctx context.Context, u UnmatchedReceipt) error {
	if !u.Reason.valid() {
		return invalid("unmatched reason %q", u.Reason)
	}
	if u.PDU != "" && u.PDU != DeliverSM && u.PDU != DataSM {
		return invalid("PDU kind %q", u.PDU)
	}
	rc := u.Receipt
	if err := checkID("operator id", rc.OperatorID); err != nil {
		return err
	}
	var tlvs *string
	if len(u.TLVs) > 0 {
		m := make(map[string]string, len(u.TLVs))
		for tag, v := range u.TLVs {
			m[fmt.Sprintf("0x%04x", tag)] = hex.EncodeToString(v)
		}
		b, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("store: record unmatched receipt: %w", err)
		}
		js := string(b)
		tlvs = &js
	}
	received := rc.Received
	if received.IsZero() || checkTime("", received) != nil {
		received = time.Now()
	}
	nb, hz, hold := rangedOrNil(rc.NotBefore), rangedOrNil(rc.Horizon), rc.HoldFor
	if nb == nil {
		hz = nil
	}
	if hold <= 0 {
		hold = DefaultHoldFor
	}
	var pdu *string
	if u.PDU != "" {
		p := string(u.PDU)
		pdu = &p
	}
	_, err := s.pool.Exec(ctx, recordUnmatchedSQL, rc.OperatorID, string(u.Reason), nullable(cleanText(truncate(u.Detail, maxDetail))),
		nullable(idText(rc.SMSCKey)), nullable(idText(rc.RawID)), nullable(cleanText(truncate(string(rc.Status), MaxIDLength))),
		nullable(idText(rc.Stat)), nullable(idText(rc.Err)), rangedOrNil(rc.Done), pdu, int16(u.EsmClass), int16(u.DataCoding),
		[]byte(rc.Raw), tlvs, received, nb, hz, hold.Seconds(), s.opts.Shadow)
	if err != nil {
		return fmt.Errorf("store: record unmatched receipt: %w", err)
	}
	return nil
}

// idText makes an identifier read from a receipt storable as text, cut to
// MaxIDLength bytes (an index key); the raw bytes keep the whole of it.
func idText(s string) string { return truncate(cleanText(s), MaxIDLength) }

// rangedOrNil is t, or nil when zero or out of range.
func rangedOrNil(t time.Time) *time.Time {
	if t.IsZero() || checkTime("", t) != nil {
		return nil
	}
	return &t
}

// rematchSQL moves up to $2 of an operator's no_part receipts whose key a
// part now holds, or held until a newer part took it (displaced_key), back
// to the inbox, marking them matched with that part. The part must be one
// the receipt may belong to: submitted before the receipt came, answered
// within its horizon (the weaker bound: the hold is long over; the drain
// applies the stronger one, NotBefore, and otherwise holds it with this
// part as its candidate, for the sweep). A receipt held without bounds gets
// the widest ones (the Unix epoch, as connector/inbound does without a
// horizon), so that the drain too refuses a part submitted after it came.
// Rows another call is moving are skipped. The rows are walked oldest first
// through the partial index on (operator_id, id), which holds only the
// no_part rows not matched yet; the update finds them by id (a join with
// picked would be planned as a hash join over the whole table when the
// plan is generic).
const rematchSQL = `
WITH picked AS (
	SELECT u.id, c.message_id, c.part_number
	FROM smpp.unmatched_receipts AS u
	CROSS JOIN LATERAL (
		SELECT mc.message_id, mc.part_number, mc.submitted_at FROM smpp.message_correlations AS mc
		WHERE mc.smsc_key = u.smsc_key AND mc.operator_id = u.operator_id
			AND mc.resp_at >= coalesce(u.horizon, 'epoch') AND mc.submitted_at <= u.received_at
		UNION ALL
		SELECT mc.message_id, mc.part_number, mc.submitted_at FROM smpp.message_correlations AS mc
		WHERE mc.displaced_key = u.smsc_key AND mc.operator_id = u.operator_id
			AND mc.resp_at >= coalesce(u.horizon, 'epoch') AND mc.submitted_at <= u.received_at
		ORDER BY submitted_at DESC LIMIT 1) AS c
	WHERE u.operator_id = $1 AND u.reason = 'no_part' AND u.matched_at IS NULL AND u.shadow = $3
	ORDER BY u.id
	LIMIT $2
	FOR UPDATE OF u SKIP LOCKED
), marked AS (
	UPDATE smpp.unmatched_receipts AS u
	SET matched_at = now(),
		(matched_message_id, matched_part) = (SELECT p.message_id, p.part_number FROM picked AS p WHERE p.id = u.id)
	WHERE u.id = ANY (ARRAY(SELECT id FROM picked))
	RETURNING u.id, u.operator_id, u.smsc_key, u.smsc_message_id, u.receipt_state, u.receipt_stat, u.receipt_err,
		u.done_at, u.received_at, u.raw, u.not_before, u.horizon, u.hold_for, u.shadow
)
INSERT INTO smpp.receipt_inbox (operator_id, smsc_key, smsc_message_id, receipt_state, receipt_stat,
	receipt_err, done_at, received_at, raw, not_before, horizon, hold_for, shadow)
SELECT operator_id, smsc_key, smsc_message_id, receipt_state, receipt_stat, receipt_err, done_at, received_at,
	raw, coalesce(not_before, 'epoch'), coalesce(horizon, 'epoch'),
	coalesce(hold_for, make_interval(secs => $4)), shadow
FROM marked ORDER BY id`

// RematchUnmatched moves up to limit of the operator's NoPart receipts
// whose key a part now holds (its submit_sm_resp was stored after the
// receipt was given up, say) back to the receipt inbox, and marks them
// matched (matched_at, matched_message_id, matched_part) in the same
// transaction; the drain then applies them by the usual rules, with their
// events. Only a part the receipt may belong to is looked for: submitted
// before the receipt came and answered within its horizon (an SMSC that
// restarted gives old ids to new messages; those never take an old
// receipt). It returns how many it moved; several replicas may run it at
// once. Rows that match nothing are read again by each call: run it after
// an event that can make receipts match (late responses stored by a
// reconciliation), not in a tight loop.
func (s *Store) RematchUnmatched(ctx context.Context, operatorID string, limit int) (int64, error) {
	if err := checkID("operator id", operatorID); err != nil {
		return 0, err
	}
	if limit <= 0 {
		return 0, nil
	}
	tag, err := s.pool.Exec(ctx, rematchSQL, operatorID, limit, s.opts.Shadow, DefaultHoldFor.Seconds())
	if err != nil {
		return 0, fmt.Errorf("store: re-match unmatched receipts: %w", err)
	}
	if tag.RowsAffected() > 0 {
		select {
		case s.inboxed <- struct{}{}:
		default:
		}
	}
	return tag.RowsAffected(), nil
}

// setAsideSQL moves an inbox row that failed for good to the unmatched
// receipts (reason failed), in one statement: nothing is lost in between.
// The values are the row's own, of the same types, and the unmatched table
// has no constraint they could fail. 0 rows: another drain applied it.
const setAsideSQL = `
WITH gone AS (
	DELETE FROM smpp.receipt_inbox WHERE id = $1 AND failed IS NULL
	RETURNING operator_id, smsc_key, smsc_message_id, receipt_state, receipt_stat, receipt_err, done_at,
		received_at, raw, not_before, horizon, hold_for, shadow
)
INSERT INTO smpp.unmatched_receipts (operator_id, reason, detail, smsc_key, smsc_message_id, receipt_state,
	receipt_stat, receipt_err, done_at, raw, received_at, not_before, horizon, hold_for, shadow)
SELECT operator_id, 'failed', $2, smsc_key, smsc_message_id, receipt_state, receipt_stat, receipt_err, done_at,
	raw, received_at, not_before, horizon, hold_for, shadow
FROM gone`

// purgeUnmatchedSQL deletes up to $2 unmatched receipts received before $1.
const purgeUnmatchedSQL = `
DELETE FROM smpp.unmatched_receipts
WHERE id = ANY (ARRAY(
	SELECT id FROM smpp.unmatched_receipts WHERE received_at < $1 LIMIT $2))`
