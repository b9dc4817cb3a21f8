package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// moLockSpace is the advisory lock namespace of segmented MO messages.
const moLockSpace int32 = 0x736d706f // "smpo"

// MOKey names a segmented MO message: the handset's concatenation key.
type MOKey struct {
	OperatorID, Source, Destination string
	Ref                             uint16
	Total                           int
}

// MOPart is one part of a segmented MO message.
type MOPart struct {
	Seq        int
	DataCoding byte
	Octets     []byte // text octets, UDH removed
	Received   time.Time
}

// MOMessage is every part of a complete message, in order, and when its
// first part arrived (stable across calls: it names the message for
// deduplication).
type MOMessage struct {
	Key          MOKey
	Parts        []MOPart
	FirstReceipt time.Time
}

func (k MOKey) check() error {
	if err := checkID("operator id", k.OperatorID); err != nil {
		return err
	}
	if k.Total < 2 || k.Total > 255 {
		return invalid("MO part count %d out of range 2..255", k.Total)
	}
	return nil
}

const moInsertSQL = `
INSERT INTO smpp.mo_parts (operator_id, source, destination, ref, total, seq, data_coding, octets, received_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT DO NOTHING`

const moSelectSQL = `
SELECT seq, data_coding, octets, received_at FROM smpp.mo_parts
WHERE operator_id = $1 AND source = $2 AND destination = $3 AND ref = $4 AND total = $5
ORDER BY seq`

// AddMOPart stores one part of a segmented MO message (a repeated part is
// ignored) and, when every part is stored, returns the whole message. The
// parts stay stored until ForgetMO: publish the message first, then forget
// it, so that a failed publish is retried when the SMSC delivers the part
// again. It returns once the part is durable.
func (s *Store) AddMOPart(ctx context.Context, k MOKey, p MOPart) (MOMessage, bool, error) {
	if err := k.check(); err != nil {
		return MOMessage{}, false, err
	}
	if p.Seq < 1 || p.Seq > k.Total {
		return MOMessage{}, false, invalid("MO part %d of %d", p.Seq, k.Total)
	}
	if p.Received.IsZero() {
		p.Received = time.Now()
	}
	if p.Octets == nil {
		p.Octets = []byte{} // an empty part is still a part (bytea NOT NULL)
	}
	msg := MOMessage{Key: k}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Parts of one message arriving at once on several binds: each sees
		// the others, so exactly the last one finds the message complete.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1::int4, $2::int4)`, moLockSpace,
			lockKey(k.OperatorID, k.Source, k.Destination, fmt.Sprint(k.Ref), fmt.Sprint(k.Total))); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, moInsertSQL, k.OperatorID, k.Source, k.Destination, int32(k.Ref), int16(k.Total),
			int16(p.Seq), int16(p.DataCoding), p.Octets, p.Received); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, moSelectSQL, k.OperatorID, k.Source, k.Destination, int32(k.Ref), int16(k.Total))
		if err != nil {
			return err
		}
		msg.Parts, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (MOPart, error) {
			var (
				q      MOPart
				seq    int16
				coding int16
			)
			err := row.Scan(&seq, &coding, &q.Octets, &q.Received)
			q.Seq, q.DataCoding = int(seq), byte(coding)
			return q, err
		})
		return err
	})
	if err != nil {
		return MOMessage{}, false, fmt.Errorf("store: MO part %d/%d from %s: %w", p.Seq, k.Total, k.Source, err)
	}
	if len(msg.Parts) < k.Total {
		return MOMessage{}, false, nil
	}
	msg.FirstReceipt = msg.Parts[0].Received
	for _, q := range msg.Parts {
		if q.Received.Before(msg.FirstReceipt) {
			msg.FirstReceipt = q.Received
		}
	}
	return msg, true, nil
}

// ForgetMO deletes a message's parts once it is published.
func (s *Store) ForgetMO(ctx context.Context, k MOKey) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM smpp.mo_parts
		WHERE operator_id = $1 AND source = $2 AND destination = $3 AND ref = $4 AND total = $5`,
		k.OperatorID, k.Source, k.Destination, int32(k.Ref), int16(k.Total))
	if err != nil {
		return fmt.Errorf("store: forget MO from %s ref %d: %w", k.Source, k.Ref, err)
	}
	return nil
}

// ExpireMOParts deletes the incomplete messages whose first part arrived
// more than olderThan ago (their other parts never came) and returns their
// keys with the number of parts each had, so the caller counts and logs them.
func (s *Store) ExpireMOParts(ctx context.Context, olderThan time.Duration) (map[MOKey]int, error) {
	rows, err := s.pool.Query(ctx, `
WITH old AS (
	SELECT DISTINCT operator_id, source, destination, ref, total FROM smpp.mo_parts
	WHERE received_at < now() - make_interval(secs => $1)
)
DELETE FROM smpp.mo_parts AS p USING old
WHERE (p.operator_id, p.source, p.destination, p.ref, p.total) = (old.operator_id, old.source, old.destination, old.ref, old.total)
RETURNING p.operator_id, p.source, p.destination, p.ref, p.total`, olderThan.Seconds())
	if err != nil {
		return nil, fmt.Errorf("store: expire MO parts: %w", err)
	}
	defer rows.Close()
	out := map[MOKey]int{}
	for rows.Next() {
		var (
			k     MOKey
			ref   int32
			total int16
		)
		if err := rows.Scan(&k.OperatorID, &k.Source, &k.Destination, &ref, &total); err != nil {
			return nil, fmt.Errorf("store: expire MO parts: %w", err)
		}
		k.Ref, k.Total = uint16(ref), int(total)
		out[k]++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: expire MO parts: %w", err)
	}
	return out, nil
}
