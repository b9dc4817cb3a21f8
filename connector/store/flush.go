package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Advisory lock namespaces (the two-int4 form, a key space of its own).
const (
	keyLockSpace     int32 = 0x736d706b // "smpk": (operator, SMSC key)
	messageLockSpace int32 = 0x736d706d // "smpm": message id
)

// lockSQL takes transaction advisory locks in the order given (sorted by the
// caller, so that transactions never wait for each other in a cycle).
const lockSQL = `SELECT pg_advisory_xact_lock($1::int4, k) FROM unnest($2::int4[]) AS k`

// stealSQL releases the SMSC key and raw id held by another part when an
// SMSC reuses an id: the newer accepted part takes them, provided its own
// row will take the outcome. (Two lookups, one per unique key: an OR across
// both keys would not use either index.)
const stealSQL = `
WITH i AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int2[]) AS i(op, key, raw, msg, part)
), holder AS (
	SELECT mc.id, i.msg, i.part, i.key
	FROM i JOIN smpp.message_correlations AS mc ON mc.operator_id = i.op AND mc.smsc_key = i.key
	UNION
	SELECT mc.id, i.msg, i.part, i.key
	FROM i JOIN smpp.message_correlations AS mc ON mc.operator_id = i.op AND mc.smsc_message_id = i.raw
)
UPDATE smpp.message_correlations AS mc
SET smsc_key = NULL, smsc_message_id = NULL, updated_at = now()
FROM holder AS h
WHERE mc.id = h.id
	AND (mc.message_id <> h.msg OR mc.part_number <> h.part)
	AND EXISTS (SELECT 1 FROM smpp.message_correlations AS t
		WHERE t.message_id = h.msg AND t.part_number = h.part AND t.operator_id = mc.operator_id
			AND t.submit_status <> 'accepted')
RETURNING mc.message_id, mc.part_number, h.msg, h.part, h.key`

// outcomeSQL applies outcomes where the transition is allowed (accepted >
// rejected > unknown > pending; rejected and unknown may repeat) and returns
// every found part: updated (true) or as it is (false).
const outcomeSQL = `
WITH i AS (
	SELECT * FROM unnest($1::int4[], $2::text[], $3::text[], $4::int2[], $5::text[], $6::text[],
		$7::text[], $8::int4[], $9::int4[], $10::timestamptz[], $11::timestamptz[])
		AS i(ord, op, msg, part, kind, raw, key, cs, seq, at, submitted)
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
)
SELECT ord, true, ` + partColumnsBare + ` FROM upd
UNION ALL
SELECT i.ord, false, ` + partColumns + `
FROM i JOIN smpp.message_correlations AS mc ON mc.message_id = i.msg AND mc.part_number = i.part
WHERE NOT EXISTS (SELECT 1 FROM upd WHERE upd.ord = i.ord)`

// rowColumns describe a matched part for receipts, table aliased mc.
const rowColumns = `mc.id, mc.operator_id, mc.message_id, mc.part_number, mc.part_count,
	mc.submitted_at, mc.receipt_state`

// heldSQL takes the held receipts for keys that a part now has (accepted
// in this transaction).
const heldSQL = `
DELETE FROM smpp.pending_receipts AS p
USING unnest($1::text[], $2::text[]) AS i(op, key), smpp.message_correlations AS mc
WHERE p.operator_id = i.op AND p.smsc_key = i.key
	AND mc.operator_id = p.operator_id AND mc.smsc_key = p.smsc_key
RETURNING p.id, p.created_at, p.operator_id, p.smsc_key, p.smsc_message_id, p.receipt_state,
	p.receipt_stat, p.receipt_err, p.done_at, p.received_at, p.raw, ` + rowColumns

// lookupSQL finds and locks the parts of receipts.
const lookupSQL = `
SELECT i.ord, ` + rowColumns + `
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS i(op, key, ord)
JOIN smpp.message_correlations AS mc ON mc.operator_id = i.op AND mc.smsc_key = i.key
ORDER BY mc.id
FOR UPDATE OF mc`

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

// holdSQL holds a receipt that no part has the key of.
const holdSQL = `
INSERT INTO smpp.pending_receipts (operator_id, smsc_key, smsc_message_id, receipt_state,
	receipt_stat, receipt_err, done_at, received_at, raw)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id`

// part is a correlation row a receipt applies to, as the flush sees it.
type part struct {
	id          int64
	operatorID  string
	messageID   string
	number      int
	count       int
	submittedAt time.Time
	state       string // receipt state

	// To write.
	changed  bool
	received int // receipts seen in this flush
	stat     *string
	err      *string
	at       time.Time
	done     *time.Time

	scan *partScan
}

// dest are the scan destinations of rowColumns; call scanned after Scan.
func (p *part) dest() []any {
	p.scan = &partScan{}
	return []any{&p.id, &p.operatorID, &p.messageID, &p.scan.number, &p.scan.count, &p.scan.submitted, &p.scan.state}
}

func (p *part) scanned() {
	p.number, p.count = int(p.scan.number), int(p.scan.count)
	p.submittedAt, p.state = derefTime(p.scan.submitted), deref(p.scan.state)
	p.scan = nil
}

type partScan struct {
	number, count int16
	submitted     *time.Time
	state         *string
}

// apply applies the receipt to its part (in memory) and fills a.m.
func (a *application) apply() {
	p := a.part
	d := decide(p.state, a.receipt.Status)
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

// lockKey hashes an advisory lock's name (collisions only serialise more).
func lockKey(parts ...string) int32 {
	h := fnv.New32a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return int32(h.Sum32())
}

// flush writes a batch in one transaction (flushTx). SMSCs rarely reuse a
// message id while an older row still holds it, so the first attempt does
// not look for holders; the unique key refusing an accepted outcome means
// one exists, and the batch is written again releasing it (stealSQL).
func (s *Store) flush(ctx context.Context, batch []*request) ([]response, error) {
	res, err := s.flushTx(ctx, batch, false)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && strings.HasPrefix(pgErr.ConstraintName, "message_correlations_operator_smsc") {
		s.stats.reuses.Add(1)
		res, err = s.flushTx(ctx, batch, true)
	}
	return res, err
}

// flush writes a batch in one transaction and returns each request's
// result. The transaction is two pipelined round trips (BEGIN and COMMIT
// travel with the statements): the first stores prepares and outcomes and
// reads what the receipts need, the second writes the receipts. A batch
// with neither receipts nor accepted outcomes commits in the first.
func (s *Store) flushTx(ctx context.Context, batch []*request, steal bool) ([]response, error) {
	res := make([]response, len(batch))
	var preps, outs, rcs []int // batch indexes
	keyLocks := map[int32]bool{}
	for i, r := range batch {
		switch {
		case r.prepare != nil:
			preps = append(preps, i)
		case r.outcome != nil:
			outs = append(outs, i)
			if o := r.outcome; o.Kind == Accepted {
				keyLocks[lockKey(o.OperatorID, o.SMSCKey)] = true
			}
		default:
			rcs = append(rcs, i)
			keyLocks[lockKey(r.receipt.OperatorID, r.receipt.SMSCKey)] = true
		}
	}

	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	committed := false
	defer func() {
		if !committed && conn.Conn().PgConn().TxStatus() != 'I' {
			// Rolled back, or the pool closes the connection on release.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_, _ = conn.Exec(rctx, "ROLLBACK")
		}
	}()

	// Round 1: lock the keys, store the outcomes, take the receipts held
	// for the accepted keys, find (and lock) the parts of the receipts,
	// insert and read the prepared parts.
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	if len(keyLocks) > 0 {
		b.Queue(lockSQL, keyLockSpace, sortedKeys(keyLocks))
	}
	var (
		accOp, accKey, accRaw, accMsg []string
		accPart                       []int16
		accIdx                        = map[[2]string]int{} // (operator, key) -> batch index
	)
	for _, i := range outs {
		if o := batch[i].outcome; o.Kind == Accepted {
			accOp, accKey, accRaw = append(accOp, o.OperatorID), append(accKey, o.SMSCKey), append(accRaw, o.SMSCMessageID)
			accMsg, accPart = append(accMsg, o.MessageID), append(accPart, int16(o.Part))
			accIdx[[2]string{o.OperatorID, o.SMSCKey}] = i
		}
	}
	if steal && len(accOp) > 0 {
		b.Queue(stealSQL, accOp, accKey, accRaw, accMsg, accPart)
	}
	if len(outs) > 0 {
		// Rows are locked in one order by every transaction.
		slices.SortStableFunc(outs, func(x, y int) int {
			a, b := batch[x].outcome, batch[y].outcome
			if c := strings.Compare(a.MessageID, b.MessageID); c != 0 {
				return c
			}
			return a.Part - b.Part
		})
		queueOutcomes(b, batch, outs)
	}
	if len(accOp) > 0 {
		b.Queue(heldSQL, accOp, accKey)
	}
	if len(rcs) > 0 {
		op, key := make([]string, len(rcs)), make([]string, len(rcs))
		for j, i := range rcs {
			op[j], key[j] = batch[i].receipt.OperatorID, batch[i].receipt.SMSCKey
		}
		b.Queue(lookupSQL, op, key)
	}
	type partKey struct {
		msg  string
		part int16
	}
	if len(preps) > 0 {
		var (
			ops, msgs     []string
			parts, counts []int16
			seqs          []int32
		)
		for _, i := range preps {
			p := batch[i].prepare
			for _, part := range p.parts {
				ops, msgs = append(ops, p.msg.OperatorID), append(msgs, p.msg.MessageID)
				parts, counts = append(parts, int16(part.Number)), append(counts, int16(p.msg.PartCount))
				seqs = append(seqs, int32(part.SequenceNumber))
			}
		}
		b.Queue(prepareInsertSQL, ops, msgs, parts, counts, seqs)
		b.Queue(prepareSelectSQL, msgs, parts)
	}
	commitNow := len(rcs) == 0 && len(accOp) == 0
	if commitNow {
		b.Queue("COMMIT")
	}

	var (
		displaced [][5]any
		rowsByID  = map[int64]*part{}
		heldApps  []*application
		matchedTo = make([]*part, len(rcs)) // receipt j's part, nil: hold it
	)
	keep := func(p *part) *part {
		if have, ok := rowsByID[p.id]; ok {
			return have
		}
		rowsByID[p.id] = p
		return p
	}
	err = func() error {
		br := conn.SendBatch(ctx, b)
		defer br.Close()
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		if len(keyLocks) > 0 {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("lock keys: %w", err)
			}
		}
		if steal && len(accOp) > 0 {
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
				displaced = append(displaced, [5]any{key, oldMsg, oldPart, newMsg, newPart})
			}
			if err := rows.Err(); err != nil {
				return fmt.Errorf("release reused SMSC ids: %w", err)
			}
		}
		if len(outs) > 0 {
			if err := readOutcomes(br, batch, outs, res); err != nil {
				return fmt.Errorf("store outcomes: %w", err)
			}
		}
		if len(accOp) > 0 {
			rows, _ := br.Query()
			for rows.Next() {
				a := &application{held: true}
				var (
					p              part
					stat, errField *string
					done           *time.Time
					rawText        []byte
				)
				dest := append([]any{&a.heldID, &a.heldAt, &a.receipt.OperatorID, &a.receipt.SMSCKey,
					&a.receipt.RawID, &a.receipt.Status, &stat, &errField, &done, &a.receipt.Received, &rawText},
					p.dest()...)
				if err := rows.Scan(dest...); err != nil {
					rows.Close()
					return fmt.Errorf("take held receipts: %w", err)
				}
				p.scanned()
				a.receipt.Stat, a.receipt.Err, a.receipt.Done = deref(stat), deref(errField), derefTime(done)
				a.receipt.Raw = string(rawText)
				a.part = keep(&p)
				a.req = accIdx[[2]string{a.receipt.OperatorID, a.receipt.SMSCKey}]
				heldApps = append(heldApps, a)
			}
			if err := rows.Err(); err != nil {
				return fmt.Errorf("take held receipts: %w", err)
			}
		}
		if len(rcs) > 0 {
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
				matchedTo[ord-1] = keep(&p)
			}
			if err := rows.Err(); err != nil {
				return fmt.Errorf("find receipts' parts: %w", err)
			}
		}
		if len(preps) > 0 {
			created := map[partKey]bool{}
			rows, _ := br.Query()
			for rows.Next() {
				var k partKey
				if err := rows.Scan(&k.msg, &k.part); err != nil {
					rows.Close()
					return fmt.Errorf("prepare parts: %w", err)
				}
				created[k] = true
			}
			if err := rows.Err(); err != nil {
				return fmt.Errorf("prepare parts: %w", err)
			}
			rows, _ = br.Query()
			states := map[partKey]PartState{}
			for rows.Next() {
				st, err := scanPart(rows)
				if err != nil {
					rows.Close()
					return fmt.Errorf("read prepared parts: %w", err)
				}
				k := partKey{st.MessageID, int16(st.Part)}
				st.Created = created[k]
				states[k] = st
			}
			if err := rows.Err(); err != nil {
				return fmt.Errorf("read prepared parts: %w", err)
			}
			for _, i := range preps {
				p := batch[i].prepare
				out := make([]PartState, len(p.parts))
				for j, part := range p.parts {
					st, ok := states[partKey{p.msg.MessageID, int16(part.Number)}]
					if !ok {
						return fmt.Errorf("prepare %s: part %d neither inserted nor found", p.msg.MessageID, part.Number)
					}
					out[j] = st
				}
				res[i].parts = out
			}
		}
		if commitNow {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("commit: %w", err)
			}
		}
		return br.Close()
	}()
	if err != nil {
		return nil, err
	}
	if commitNow {
		committed = true
		return res, nil
	}

	// Apply the receipts in order: the held ones first (they came first),
	// by time received, then this batch's.
	sort.SliceStable(heldApps, func(a, b int) bool {
		x, y := heldApps[a], heldApps[b]
		if !x.receipt.Received.Equal(y.receipt.Received) {
			return x.receipt.Received.Before(y.receipt.Received)
		}
		return x.heldID < y.heldID
	})
	apps := heldApps
	var hold []int // receipt indexes (into rcs) to hold
	for j, i := range rcs {
		if matchedTo[j] == nil {
			hold = append(hold, j)
			continue
		}
		apps = append(apps, &application{part: matchedTo[j], receipt: *batch[i].receipt, req: i})
	}
	multipart := map[string]bool{}
	for _, a := range apps {
		a.apply()
		if a.part.count > 1 {
			multipart[a.part.messageID] = true
		}
	}

	// Round 2: lock the multipart messages and read their parts' receipt
	// states (for the counts), write the receipt states, hold the receipts
	// that matched nothing, commit.
	b = &pgx.Batch{}
	if len(multipart) > 0 {
		msgIDs := make([]string, 0, len(multipart))
		locks := map[int32]bool{}
		for id := range multipart {
			msgIDs = append(msgIDs, id)
			locks[lockKey(id)] = true
		}
		b.Queue(lockSQL, messageLockSpace, sortedKeys(locks))
		b.Queue(siblingsSQL, msgIDs)
	}
	var (
		ids         []int64
		changed     []bool
		states      []string
		stats, errs []*string
		ats         []time.Time
		dones       []*time.Time
		counts      []int32
	)
	for _, id := range slices.Sorted(maps.Keys(rowsByID)) {
		p := rowsByID[id]
		if p.received == 0 {
			continue
		}
		ids, changed, states = append(ids, p.id), append(changed, p.changed), append(states, p.state)
		stats, errs, ats = append(stats, p.stat), append(errs, p.err), append(ats, p.at)
		dones, counts = append(dones, p.done), append(counts, int32(p.received))
	}
	if len(ids) > 0 {
		b.Queue(receiptUpdateSQL, ids, changed, states, stats, errs, ats, dones, counts)
	}
	for _, j := range hold {
		r := batch[rcs[j]].receipt
		var done *time.Time
		if !r.Done.IsZero() {
			done = &r.Done
		}
		b.Queue(holdSQL, r.OperatorID, r.SMSCKey, r.RawID, r.Status, nullable(r.Stat), nullable(r.Err),
			done, r.Received, []byte(r.Raw))
	}
	b.Queue("COMMIT")
	heldIDs := make([]int64, len(hold))
	siblings := map[string]map[int]string{}
	err = func() error {
		br := conn.SendBatch(ctx, b)
		defer br.Close()
		if len(multipart) > 0 {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("lock messages: %w", err)
			}
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
				if siblings[msg] == nil {
					siblings[msg] = map[int]string{}
				}
				siblings[msg][int(number)] = deref(state)
			}
			if err := rows.Err(); err != nil {
				return fmt.Errorf("read parts: %w", err)
			}
		}
		if len(ids) > 0 {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("store receipts: %w", err)
			}
		}
		for k := range hold {
			if err := br.QueryRow().Scan(&heldIDs[k]); err != nil {
				return fmt.Errorf("hold receipt: %w", err)
			}
		}
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return br.Close()
	}()
	if err != nil {
		return nil, err
	}
	committed = true

	// Count the parts with receipts as each receipt saw them (the message
	// lock makes this transaction's receipts the only ones in between).
	for _, a := range apps {
		if a.part.count <= 1 {
			continue
		}
		sib := siblings[a.part.messageID]
		if sib == nil {
			sib = map[int]string{}
			siblings[a.part.messageID] = sib
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
	for _, a := range apps {
		if a.held {
			res[a.req].outcome.Receipts = append(res[a.req].outcome.Receipts,
				HeldReceipt{ID: a.heldID, Receipt: a.receipt, Matched: a.m, HeldAt: a.heldAt})
		} else {
			res[a.req].matched = a.m
		}
	}
	for k, j := range hold {
		res[rcs[j]].matched = Matched{Disposition: Held, HeldID: heldIDs[k]}
	}
	s.stats.held.Add(int64(len(hold)))
	s.stats.released.Add(int64(len(heldApps)))
	s.stats.displaced.Add(int64(len(displaced)))
	for _, d := range displaced {
		s.log.Warn("store: SMSC reused a message id; the newer part takes it",
			"smsc_key", d[0], "old_message_id", d[1], "old_part", d[2], "message_id", d[3], "part", d[4])
	}
	return res, nil
}

func queueOutcomes(b *pgx.Batch, batch []*request, outs []int) {
	n := len(outs)
	var (
		ord           = make([]int32, n)
		seq, cs       = make([]*int32, n), make([]*int32, n)
		op, msg, kind = make([]string, n), make([]string, n), make([]string, n)
		raw, key      = make([]*string, n), make([]*string, n)
		part          = make([]int16, n)
		at, submitted = make([]time.Time, n), make([]*time.Time, n)
	)
	for j, i := range outs {
		o := batch[i].outcome
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
		at[j] = o.At
		if !o.SubmittedAt.IsZero() {
			submitted[j] = &o.SubmittedAt
		}
	}
	b.Queue(outcomeSQL, ord, op, msg, part, kind, raw, key, cs, seq, at, submitted)
}

func readOutcomes(br pgx.BatchResults, batch []*request, outs []int, res []response) error {
	rows, _ := br.Query()
	found := make([]bool, len(outs))
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
		i := outs[ord]
		o := batch[i].outcome
		found[ord] = true
		if st.OperatorID != o.OperatorID {
			res[i].err = fmt.Errorf("%w: %s part %d is stored for operator %s, not %s",
				ErrNotPrepared, o.MessageID, o.Part, st.OperatorID, o.OperatorID)
			continue
		}
		res[i].outcome = OutcomeResult{Applied: applied, State: st}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for j, ok := range found {
		if !ok {
			o := batch[outs[j]].outcome
			res[outs[j]].err = fmt.Errorf("%w: %s part %d", ErrNotPrepared, o.MessageID, o.Part)
		}
	}
	return nil
}

// decide applies the receipt rules: first receipt, final over intermediate.
func decide(current, next string) Disposition {
	switch {
	case current == "":
		return Applied
	case FinalReceiptStatus(current):
		if FinalReceiptStatus(next) {
			return Duplicate
		}
		return Stale
	case FinalReceiptStatus(next):
		return Applied
	case next == current:
		return Duplicate
	default:
		return Applied // ENROUTE <-> ACCEPTED: the newer intermediate state
	}
}

func sortedKeys(m map[int32]bool) []int32 {
	out := make([]int32, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
