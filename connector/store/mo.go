package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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

func (p MOPart) same(q MOPart) bool {
	return p.Seq == q.Seq && p.DataCoding == q.DataCoding && bytes.Equal(p.Octets, q.Octets)
}

// MOMessage is every part of a complete message, in order, and when its
// first part arrived (stable across calls: it names the message for
// deduplication).
type MOMessage struct {
	Key          MOKey
	Parts        []MOPart
	FirstReceipt time.Time
}

// MOResult is what AddMOPart made of a part.
type MOResult struct {
	// Complete: every part is stored and the message is not published yet:
	// publish Message, then MarkMOPublished.
	Complete bool
	Message  MOMessage
	// Duplicate: a copy of a part of a message published within
	// MODuplicateWindow: drop it.
	Duplicate bool
	// Abandoned counts the parts of an unfinished message with the same key
	// that this part replaced (it differs from the part stored at its
	// position: the handset reused the reference and the old message will
	// never complete).
	Abandoned int
}

// normalise makes the key storable: addresses are C strings from the SMSC,
// not necessarily UTF-8 (an alphanumeric sender in Latin-1, say).
func (k *MOKey) normalise() error {
	if err := checkID("operator id", k.OperatorID); err != nil {
		return err
	}
	if k.Total < 2 || k.Total > 255 {
		return invalid("MO part count %d out of range 2..255", k.Total)
	}
	k.Source, k.Destination = cleanText(k.Source), cleanText(k.Destination)
	return nil
}

func (k MOKey) lock() int32 {
	return lockKey(k.OperatorID, k.Source, k.Destination, strconv.Itoa(int(k.Ref)), strconv.Itoa(k.Total))
}

const moKeyWhere = `operator_id = $1 AND source = $2 AND destination = $3 AND ref = $4 AND total = $5`

// MODuplicateWindow is how long after a message is published a copy of one
// of its parts (an SMSC delivering it again after a lost deliver_sm_resp) is
// recognised and dropped. Past it the same part starts a new message: a
// handset sending the same text with the same reference again.
const MODuplicateWindow = 5 * time.Minute

// moSelectSQL reads a key's parts: published within the duplicate window
// (recent), published before it (stale), or not published.
const moSelectSQL = `SELECT seq, data_coding, octets, received_at,
	published_at > now() - make_interval(secs => $6), published_at IS NOT NULL
FROM smpp.mo_parts WHERE ` + moKeyWhere + ` ORDER BY seq`

// AddMOPart stores one part of a segmented MO message and returns once it
// is durable. When the part completes the message, the result holds every
// part; they stay stored, so that a failed publish is retried when the SMSC
// delivers the part again, until MarkMOPublished. A repeated part is
// ignored; a copy of a published message's part is reported Duplicate.
func (s *Store) AddMOPart(ctx context.Context, k MOKey, p MOPart) (MOResult, error) {
	if err := k.normalise(); err != nil {
		return MOResult{}, err
	}
	if p.Seq < 1 || p.Seq > k.Total {
		return MOResult{}, invalid("MO part %d of %d", p.Seq, k.Total)
	}
	if p.Received.IsZero() {
		p.Received = time.Now()
	}
	// As PostgreSQL keeps it: MarkMOPublished finds the part by this time.
	p.Received = p.Received.Truncate(time.Microsecond)
	if p.Octets == nil {
		p.Octets = []byte{} // an empty part is still a part (bytea NOT NULL)
	}
	keyArgs := []any{k.OperatorID, k.Source, k.Destination, int32(k.Ref), int16(k.Total)}
	var res MOResult
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		res = MOResult{}
		// Parts of one message arriving at once on several binds: each sees
		// the others, so exactly one finds the message complete.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1::int4, $2::int4)`, moLockSpace, k.lock()); err != nil {
			return err
		}
		parts, published, stale, err := readMOParts(ctx, tx, keyArgs)
		if err != nil {
			return err
		}
		if stale {
			// A message published long ago: its markers have served.
			if _, err := tx.Exec(ctx, `DELETE FROM smpp.mo_parts WHERE `+moKeyWhere, keyArgs...); err != nil {
				return err
			}
			parts, published = nil, false
		}
		var stored *MOPart
		for i := range parts {
			if parts[i].Seq == p.Seq {
				stored = &parts[i]
			}
		}
		switch {
		case published && stored != nil && stored.same(p):
			res.Duplicate = true
			return nil
		case stored != nil && stored.same(p):
			// Already stored: the message may be complete (a publish that
			// failed, its last part delivered again).
		case published || stored != nil:
			// A new message with the key of an old one: published (its
			// marker goes) or unfinished (abandoned: its other parts never
			// came, or this one would not differ).
			if _, err := tx.Exec(ctx, `DELETE FROM smpp.mo_parts WHERE `+moKeyWhere, keyArgs...); err != nil {
				return err
			}
			if !published {
				res.Abandoned = len(parts)
			}
			parts = nil
			fallthrough
		default:
			if _, err := tx.Exec(ctx, `INSERT INTO smpp.mo_parts
				(operator_id, source, destination, ref, total, seq, data_coding, octets, received_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
				append(keyArgs, int16(p.Seq), int16(p.DataCoding), p.Octets, p.Received)...); err != nil {
				return err
			}
			parts = append(parts, p)
			slices.SortFunc(parts, func(a, b MOPart) int { return a.Seq - b.Seq })
		}
		if len(parts) == k.Total {
			res.Complete = true
			res.Message = MOMessage{Key: k, Parts: parts, FirstReceipt: parts[0].Received}
			for _, q := range parts {
				if q.Received.Before(res.Message.FirstReceipt) {
					res.Message.FirstReceipt = q.Received
				}
			}
		}
		return nil
	})
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code[:2] == "22" {
			// Data PostgreSQL cannot take: retrying will not help.
			err = fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		return MOResult{}, fmt.Errorf("store: MO part %d/%d from %s: %w", p.Seq, k.Total, k.Source, err)
	}
	return res, nil
}

func readMOParts(ctx context.Context, tx pgx.Tx, keyArgs []any) (parts []MOPart, published, stale bool, err error) {
	rows, err := tx.Query(ctx, moSelectSQL, append(keyArgs, MODuplicateWindow.Seconds())...)
	if err != nil {
		return nil, false, false, err
	}
	parts, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (MOPart, error) {
		var (
			q           MOPart
			seq, coding int16
			recent      *bool
			pub         bool
		)
		err := row.Scan(&seq, &coding, &q.Octets, &q.Received, &recent, &pub)
		q.Seq, q.DataCoding = int(seq), byte(coding)
		published = published || (pub && recent != nil && *recent)
		stale = stale || (pub && (recent == nil || !*recent))
		return q, err
	})
	return parts, published, stale, err
}

// MarkMOPublished marks a published message's parts (the ones it was made
// of) so that late copies of them are recognised as duplicates until they
// expire.
func (s *Store) MarkMOPublished(ctx context.Context, m MOMessage) error {
	k := m.Key
	if err := k.normalise(); err != nil {
		return err
	}
	seqs, times := make([]int16, len(m.Parts)), make([]time.Time, len(m.Parts))
	for i, p := range m.Parts {
		seqs[i], times[i] = int16(p.Seq), p.Received
	}
	_, err := s.pool.Exec(ctx, `UPDATE smpp.mo_parts SET published_at = now()
		WHERE `+moKeyWhere+` AND published_at IS NULL
			AND (seq, received_at) IN (SELECT * FROM unnest($6::int2[], $7::timestamptz[]))`,
		k.OperatorID, k.Source, k.Destination, int32(k.Ref), int16(k.Total), seqs, times)
	if err != nil {
		return fmt.Errorf("store: mark MO from %s ref %d published: %w", k.Source, k.Ref, err)
	}
	return nil
}

// ExpireMOParts deletes the messages whose first part arrived more than
// olderThan ago: published ones (their markers have served) and unfinished
// ones, whose other parts never came. It returns the unfinished ones with
// the number of parts each had, so the caller counts and logs them.
func (s *Store) ExpireMOParts(ctx context.Context, olderThan time.Duration) (map[MOKey]int, error) {
	rows, err := s.pool.Query(ctx, `
WITH old AS (
	SELECT operator_id, source, destination, ref, total FROM smpp.mo_parts
	GROUP BY operator_id, source, destination, ref, total
	HAVING min(received_at) < now() - make_interval(secs => $1)
)
DELETE FROM smpp.mo_parts AS p USING old
WHERE (p.operator_id, p.source, p.destination, p.ref, p.total) = (old.operator_id, old.source, old.destination, old.ref, old.total)
RETURNING p.operator_id, p.source, p.destination, p.ref, p.total, p.published_at IS NOT NULL`, olderThan.Seconds())
	if err != nil {
		return nil, fmt.Errorf("store: expire MO parts: %w", err)
	}
	defer rows.Close()
	out := map[MOKey]int{}
	for rows.Next() {
		var (
			k         MOKey
			ref       int32
			total     int16
			published bool
		)
		if err := rows.Scan(&k.OperatorID, &k.Source, &k.Destination, &ref, &total, &published); err != nil {
			return nil, fmt.Errorf("store: expire MO parts: %w", err)
		}
		if !published {
			k.Ref, k.Total = uint16(ref), int(total)
			out[k]++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: expire MO parts: %w", err)
	}
	return out, nil
}
