package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
)

// partColumns are the columns scanned by scanPart, for a table aliased mc.
const partColumns = `mc.operator_id, mc.message_id, mc.part_number, mc.part_count, mc.submit_status,
	mc.smsc_message_id, mc.smsc_key, mc.command_status, mc.sequence_number, mc.submitted_at,
	mc.resp_at, mc.receipt_state`

// partColumnsBare are partColumns without the alias (for a CTE's output).
const partColumnsBare = `operator_id, message_id, part_number, part_count, submit_status,
	smsc_message_id, smsc_key, command_status, sequence_number, submitted_at,
	resp_at, receipt_state`

// prepareSQL inserts the parts that have no row yet and returns every part
// found: those it inserted (created true), and those that were there
// already (a redelivery), each with the content fingerprint it was stored
// with. A part being inserted by a concurrent transaction is waited for,
// then skipped; that row is not in this statement's snapshot, so it is not
// returned: prepareSelectSQL reads it, in a statement of its own
// (prepareMissingStep; rare). (Transactions insert in one order: they cannot
// wait for each other in a cycle.) The rows there already are looked up
// one by one (LATERAL) after the inserted ones are set apart (a hashed NOT
// IN): the first delivery of every part costs no lookup.
const prepareSQL = `
WITH i AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::int2[], $4::int2[], $5::int4[], $6::bytea[])
		AS i(op, msg, part, count, seq, sha)
), ins AS (
	INSERT INTO smpp.message_correlations AS mc
		(operator_id, message_id, part_number, part_count, sequence_number, submitted_at, content_sha256)
	SELECT i.op, i.msg, i.part, i.count, nullif(i.seq, 0), now(), i.sha
	FROM i
	ORDER BY i.msg, i.part
	ON CONFLICT (message_id, part_number) DO NOTHING
	RETURNING mc.content_sha256, mc.handed_back, ` + partColumns + `
)
SELECT true, content_sha256, handed_back, ` + partColumnsBare + ` FROM ins
UNION ALL
SELECT false, l.*
FROM i
CROSS JOIN LATERAL (SELECT mc.content_sha256, mc.handed_back, ` + partColumns + `
	FROM smpp.message_correlations AS mc WHERE mc.message_id = i.msg AND mc.part_number = i.part) AS l
WHERE (i.msg, i.part) NOT IN (SELECT message_id, part_number FROM ins)`

// prepareSelectSQL reads parts, each with the content fingerprint it was
// stored with: those prepareSQL waited for and skipped.
const prepareSelectSQL = `
SELECT mc.content_sha256, mc.handed_back, ` + partColumns + `
FROM unnest($1::text[], $2::int2[]) AS i(msg, part)
JOIN smpp.message_correlations AS mc ON mc.message_id = i.msg AND mc.part_number = i.part`

// prepareRequest is a PrepareParts call.
type prepareRequest struct {
	msg   MessageRef
	parts []PartRef
}

// PrepareParts stores one row per part before the parts are sent (an
// existing row is left as it is) and returns every part's state in the order
// of parts. A redelivered command finds its parts again: skip those whose
// Status is Accepted (they have an SMSC id), send the others. When rows exist
// with another operator or part count, the states come with ErrMismatch;
// when they exist with another msg.Fingerprint (the message id was reused
// for other content), with ErrConflict. Rows stored without a fingerprint
// are not checked.
//
// Like RecordOutcome it goes through the writer: the messages prepared at
// about the same time share one statement and one commit.
func (s *Store) PrepareParts(ctx context.Context, msg MessageRef, parts []PartRef) ([]PartState, error) {
	if err := checkID("operator id", msg.OperatorID); err != nil {
		return nil, err
	}
	if err := checkID("message id", msg.MessageID); err != nil {
		return nil, err
	}
	if len(parts) == 0 {
		return nil, invalid("no parts")
	}
	seen := make([]int, 0, len(parts))
	for _, p := range parts {
		if err := checkPart(p.Number, msg.PartCount); err != nil {
			return nil, err
		}
		if slices.Contains(seen, p.Number) {
			return nil, invalid("part %d listed twice", p.Number)
		}
		seen = append(seen, p.Number)
		if p.SequenceNumber > 1<<31-1 {
			return nil, invalid("sequence number %d out of range", p.SequenceNumber)
		}
	}
	r, err := s.submit(ctx, &request{prepare: &prepareRequest{msg: msg, parts: slices.Clone(parts)}})
	if err != nil {
		return nil, err
	}
	var mismatch error
	for i, st := range r.parts {
		switch {
		case st.OperatorID != msg.OperatorID || st.PartCount != msg.PartCount:
			mismatch = fmt.Errorf("%w: %s part %d is stored for operator %s with %d parts",
				ErrMismatch, msg.MessageID, st.Part, st.OperatorID, st.PartCount)
		case mismatch == nil && msg.Fingerprint != nil && r.fingerprints[i] != nil && !bytes.Equal(r.fingerprints[i], msg.Fingerprint):
			mismatch = fmt.Errorf("%w: %s part %d is stored with content fingerprint %.12x, this command's is %.12x",
				ErrConflict, msg.MessageID, st.Part, r.fingerprints[i], msg.Fingerprint)
		}
	}
	return r.parts, mismatch
}

// scanPart scans partColumns, after the leading destinations.
func scanPart(row pgx.Row, lead ...any) (PartState, error) {
	var (
		st                     PartState
		part, count            int16
		status                 string
		raw, key, receipt      *string
		cmdStatus, seq         *int32
		submitted, respondedAt *time.Time
	)
	dest := append(lead, &st.OperatorID, &st.MessageID, &part, &count, &status,
		&raw, &key, &cmdStatus, &seq, &submitted, &respondedAt, &receipt)
	if err := row.Scan(dest...); err != nil {
		return st, err
	}
	st.Part, st.PartCount, st.Status = int(part), int(count), SubmitStatus(status)
	st.SMSCMessageID, st.SMSCKey, st.ReceiptState = deref(raw), deref(key), dlr.Status(deref(receipt))
	if cmdStatus != nil {
		st.CommandStatus = uint32(*cmdStatus)
	}
	if seq != nil {
		st.SequenceNumber = uint32(*seq)
	}
	st.SubmittedAt, st.RespAt = derefTime(submitted), derefTime(respondedAt)
	return st, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
