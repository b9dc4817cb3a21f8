package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/internal/queuecursor"
)

// The receipt inbox (smpp.receipt_inbox, migration 00008): see the package
// doc, "The receipt inbox".

// inboxRequest is one AppendReceipt waiting for the inbox writer.
type inboxRequest struct {
	rc  Receipt
	res chan error // buffered: the writer never blocks on it
}

// AppendReceipt stores a receipt in the inbox and returns once it is
// committed: from then on it is applied (or held) exactly once, by
// DrainInbox in this process or another, even if this one dies now. Every
// receipt that arrives while the inbox's previous INSERT commits goes in
// the next one (group commit). When ctx ends first the receipt may or may
// not be stored: the SMSC must deliver it again (a second copy is applied
// as a duplicate).
func (s *Store) AppendReceipt(ctx context.Context, rc Receipt) error {
	if err := rc.normalise(); err != nil {
		return err
	}
	req := &inboxRequest{rc: rc, res: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	select {
	case s.inbox <- req:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-req.res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Inboxed is signalled (without blocking) after an append committed: the
// drain's cue.
func (s *Store) Inboxed() <-chan struct{} { return s.inboxed }

// appendLoop writes the inbox requests: whatever is waiting when the
// previous INSERT has committed goes in the next, with what comes within
// Options.InboxLinger of the first (none by default: a lone receipt is
// written at once, and a busy inbox batches by itself). One loop, one
// INSERT in flight: the ids (the drain's order) of this process's receipts
// follow the order of its commits, so a part's receipts are applied in the
// order they were stored (another replica's appends, and receipts a
// rematch puts back, interleave in the order their rows were inserted).
func (s *Store) appendLoop() {
	defer s.done.Done()
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for first := range s.inbox {
		batch := []*inboxRequest{first}
		var wait <-chan time.Time // nil: take only what is waiting
		if s.opts.InboxLinger > 0 {
			linger.Reset(s.opts.InboxLinger)
			wait = linger.C
		}
	more:
		for len(batch) < inboxBatchMax {
			select {
			case r, ok := <-s.inbox:
				if !ok {
					break more
				}
				batch = append(batch, r)
				continue
			default:
			}
			if wait == nil {
				break more
			}
			select {
			case r, ok := <-s.inbox:
				if !ok {
					break more
				}
				batch = append(batch, r)
			case <-wait:
				wait = nil
				break more
			}
		}
		if wait != nil {
			linger.Stop() // since Go 1.23 a stopped timer leaves no tick behind
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.FlushTimeout)
		s.appendIn(ctx, batch)
		cancel()
	}
}

// inboxBatchMax bounds one INSERT (a few hundred kilobytes of arrays).
const inboxBatchMax = 2048

// appendSQL inserts a batch of receipts, committed by itself (one
// statement, one round trip). Its transaction takes its id before the
// first row takes its own (the one-time filter runs before any row): the
// drain's cursor counts on every transaction that holds a row's id being
// visible as running (connector/internal/queuecursor); an INSERT alone
// would take its transaction id only once it writes the first row, after
// that row's id.
const appendSQL = `
INSERT INTO smpp.receipt_inbox (operator_id, smsc_key, smsc_message_id, receipt_state, receipt_stat,
	receipt_err, done_at, received_at, raw, not_before, horizon, hold_for, shadow)
SELECT op, key, raw_id, state, stat, err, done, received, raw, nb, hz,
	CASE WHEN nb IS NOT NULL THEN make_interval(secs => hold) END, $13
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[],
	$8::timestamptz[], $9::bytea[], $10::timestamptz[], $11::timestamptz[], $12::float8[])
	AS i(op, key, raw_id, state, stat, err, done, received, raw, nb, hz, hold)
WHERE (SELECT pg_current_xact_id()) IS NOT NULL`

// appendIn writes a batch, retrying transient failures, and isolates a
// receipt that fails it by writing the batch's receipts one by one.
func (s *Store) appendIn(ctx context.Context, batch []*inboxRequest) {
	err := s.appendRetrying(ctx, batch)
	if err != nil && len(batch) > 1 && ctx.Err() == nil && !isTransient(err) {
		s.stats.isolated.Add(1)
		s.log.Warn("store: inbox batch failed, writing its receipts one by one", "receipts", len(batch), "error", err)
		for _, r := range batch {
			s.appendIn(ctx, []*inboxRequest{r})
		}
		return
	}
	if err != nil {
		err = fmt.Errorf("store: append to the receipt inbox: %w", err)
	} else {
		select {
		case s.inboxed <- struct{}{}:
		default:
		}
	}
	for _, r := range batch {
		r.res <- err
	}
}

func (s *Store) appendRetrying(ctx context.Context, batch []*inboxRequest) error {
	n := len(batch)
	op, key, rawID, state := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	stat, errField := make([]*string, n), make([]*string, n)
	done, received, nb, hz := make([]*time.Time, n), make([]time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
	raw, hold := make([][]byte, n), make([]float64, n)
	for i, r := range batch {
		rc := r.rc
		op[i], key[i], rawID[i], state[i] = rc.OperatorID, rc.SMSCKey, rc.RawID, string(rc.Status)
		stat[i], errField[i] = nullable(rc.Stat), nullable(rc.Err)
		done[i], received[i], raw[i] = timeOrNil(rc.Done), rc.Received, []byte(rc.Raw)
		nb[i], hz[i], hold[i] = timeOrNil(rc.NotBefore), timeOrNil(rc.Horizon), rc.HoldFor.Seconds()
	}
	backoff := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		start := time.Now()
		_, err := s.pool.Exec(ctx, appendSQL, op, key, rawID, state, stat, errField, done, received, raw, nb, hz, hold, s.opts.Shadow)
		s.stats.appendNanos.Add(int64(time.Since(start)))
		if err == nil {
			s.stats.appends.Add(1)
			s.stats.appended.Add(int64(n))
			return nil
		}
		// A statement that reached the server and failed for a lost
		// connection may have committed: written again, its receipts are
		// applied twice, the second time as duplicates (no event).
		if !isTransient(err) || attempt == 5 || ctx.Err() != nil {
			return err
		}
		s.stats.retries.Add(1)
		s.log.Warn("store: retrying inbox append", "attempt", attempt, "receipts", n, "error", err)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return err
		}
		backoff *= 2
	}
}

// Drained is a receipt DrainInbox applied or held, with what happened to
// it; or one it could not write (Err): moved to the unmatched receipts
// (reason SetAside) when a retry cannot help (Failed), left in the inbox to
// be drained again otherwise.
type Drained struct {
	Receipt Receipt
	Matched Matched
	Err     error
	Failed  bool
}

// drainSQL reads the oldest receipts of this store's kind (live or shadow)
// that have not failed, above $3: where the store's cursor says the
// receipts not read yet begin (connector/internal/queuecursor), rather than
// through every receipt deleted since the last VACUUM; with its snapshot's
// xmin and, when it returns rows, a transaction id of its own taken after
// its snapshot, for the cursor. Such a read commits a record of its own:
// without waiting for its flush (synchronous_commit off for it alone), which
// it would wait for if it had written WAL before (pruning a page on the
// way, say); a crash that loses that record loses nothing.
const drainSQL = `
WITH snap AS MATERIALIZED (SELECT ` + snapshotXmin + `, set_config('synchronous_commit', 'off', true))
SELECT id, operator_id, smsc_key, smsc_message_id, receipt_state, receipt_stat, receipt_err, done_at,
	received_at, raw, not_before, horizon, extract(epoch FROM hold_for)::float8, snap.xmin, ` + readXid + `
FROM smpp.receipt_inbox, snap WHERE failed IS NULL AND shadow = $2 AND id > $3
ORDER BY id LIMIT $1`

// DrainInbox applies (or holds) up to limit of the oldest receipts in the
// inbox, through the flush machinery in transactions of their own
// (writeDrained); each transaction deletes the inbox rows of the receipts it
// applies. Receipts another drain took first are left to it (not returned).
// Calls may run at once, in this process or others: each receipt is
// applied once. Of receipts with the same key only one is taken in one
// call, the first received (then the first appended), so that they are
// applied in the order the SMSC sent them (transactions run side by side,
// and so do the handlers that append) as far as one call
// sees them: a receipt appended only after a later one of its part was
// applied comes too late (an intermediate one is then stale: no event).
// more reports that rows were left for the next call.
func (s *Store) DrainInbox(ctx context.Context, limit int) (drained []Drained, more bool, err error) {
	var (
		reqs []*request
		read []int64               // the ids read, in order
		gone = map[int64]bool{}    // those no longer in the inbox
		keys = map[[2]string]int{} // the index in reqs of the receipt taken for a key
	)
	var snap queuecursor.Snapshot
	cursor := s.inboxCursor.Begin()
	defer func() {
		// Left in the inbox: a second receipt of a key, a receipt whose
		// transaction failed (and was not set aside), one not written.
		maxRead, lowestLeft := queuecursor.Extent(read, func(id int64) bool { return !gone[id] })
		cursor.End(maxRead, lowestLeft, snap)
	}()
	rows, err := s.pool.Query(ctx, drainSQL, limit, s.opts.Shadow, cursor.From)
	if err != nil {
		return nil, false, fmt.Errorf("store: read the receipt inbox: %w", err)
	}
	for rows.Next() {
		var (
			rc             Receipt
			stat, errField *string
			done, nb, hz   *time.Time
			raw            []byte
			state          string
			hold           *float64
		)
		if err := rows.Scan(&rc.inboxID, &rc.OperatorID, &rc.SMSCKey, &rc.RawID, &state, &stat, &errField, &done,
			&rc.Received, &raw, &nb, &hz, &hold, &snap.Xmin, &snap.Xid); err != nil {
			rows.Close()
			return nil, false, fmt.Errorf("store: read the receipt inbox: %w", err)
		}
		read = append(read, rc.inboxID)
		k := [2]string{rc.OperatorID, rc.SMSCKey}
		taken, seen := keys[k]
		if seen {
			more = true // a second receipt of a key: the next call
			if !rc.Received.Before(reqs[taken].receipt.Received) {
				continue
			}
			// It came first (its handler appended it later: they run side
			// by side; session.Arrival stamped the SMSC's order): take it
			// instead.
		}
		rc.Status, rc.Stat, rc.Err, rc.Done, rc.Raw = dlr.Status(state), deref(stat), deref(errField), derefTime(done), string(raw)
		rc.NotBefore, rc.Horizon = derefTime(nb), derefTime(hz)
		if hold != nil {
			rc.HoldFor = time.Duration(*hold * float64(time.Second))
		}
		if seen {
			reqs[taken] = &request{receipt: &rc}
			continue
		}
		keys[k] = len(reqs)
		reqs = append(reqs, &request{receipt: &rc})
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("store: read the receipt inbox: %w", err)
	}
	more = more || len(read) == limit
	queued := reqs[:0:0]
	for len(queued) < len(reqs) {
		chunk := reqs[len(queued):min(len(reqs), len(queued)+s.opts.BatchSize)]
		if err := s.writeDrained(ctx, chunk); err != nil {
			break // closed or ctx ended: the rest stay in the inbox
		}
		queued = append(queued, chunk...)
	}
	drained = make([]Drained, 0, len(queued))
	for _, r := range queued {
		res := <-r.res // written: writeIn answered every request
		d := Drained{Receipt: *r.receipt, Matched: res.matched, Err: res.err}
		if res.err != nil {
			d.Failed = s.markFailed(ctx, r.receipt.inboxID, res.err)
		}
		// Gone: its transaction deleted it (or another drain's did), or it
		// was set aside.
		gone[r.receipt.inboxID] = res.err == nil || d.Failed
		if res.err == nil && res.matched.Disposition == 0 {
			continue // another drain applied it
		}
		drained = append(drained, d)
	}
	if len(queued) < len(reqs) {
		return drained, true, fmt.Errorf("store: drain the receipt inbox: %w", cmp.Or(ctx.Err(), ErrClosed))
	}
	return drained, more, nil
}

// writeDrained writes a drain's receipts in transactions of their own,
// not through the writer's queue: they are a batch already (the writer's
// linger would only delay them), and a transaction of inbox receipts alone
// commits without waiting for its WAL flush (flushTx), which a batch shared
// with prepares and outcomes must wait for. Close waits for it.
func (s *Store) writeDrained(ctx context.Context, reqs []*request) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, r := range reqs {
		r.res = make(chan response, 1)
	}
	// A transaction begun is finished even if the drain is being stopped
	// (as the writer's are): its rows would only be drained again.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.FlushTimeout)
	defer cancel()
	s.writeIn(wctx, reqs)
	return nil
}

// markFailed moves a receipt to the unmatched receipts (reason failed,
// its error the detail) when its error is one a retry cannot fix (its row
// failed its transaction alone), so that it is not drained again and
// again; it reports whether it did.
func (s *Store) markFailed(ctx context.Context, id int64, cause error) bool {
	if ctx.Err() != nil || !isDataError(cause) {
		return false
	}
	tag, err := s.pool.Exec(ctx, setAsideSQL, id, cleanText(truncate(cause.Error(), maxDetail)))
	if err != nil {
		s.log.Warn("store: set aside an inbox receipt", "id", id, "error", err)
		return false
	}
	return tag.RowsAffected() == 1 // 0: another drain applied it meanwhile
}

// isDataError reports errors that belong to the data written (SQLSTATE
// classes 22, data exception, and 23, integrity constraint violation): a
// retry of the same row fails the same way. A timeout, a cancel, an
// internal error or a lost connection is not the row's fault: the receipt
// stays in the inbox and is drained again.
func isDataError(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23"))
}

// claimSQL takes the batch's inbox rows: a row another transaction deleted
// first (a concurrent drain) is not returned, and its receipt is skipped.
// A row the other transaction is deleting is waited for.
const claimSQL = `DELETE FROM smpp.receipt_inbox WHERE id = ANY($1::int8[]) RETURNING id`

// claimStep deletes the inbox rows of the batch's receipts that came from
// the inbox, first in round 1 (before the key locks: every drain takes the
// rows before anything else, so no two wait for each other in a cycle).
func (t *txn) claimStep() step {
	ids := make([]int64, 0, len(t.rcs))
	for _, i := range t.rcs {
		if id := t.batch[i].receipt.inboxID; id != 0 {
			ids = append(ids, id)
		}
	}
	t.claimed = make(map[int64]bool, len(ids))
	return step{sql: claimSQL, args: []any{ids}, read: func(br pgx.BatchResults) error {
		rows, _ := br.Query()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("claim inbox receipts: %w", err)
			}
			t.claimed[id] = true
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("claim inbox receipts: %w", err)
		}
		return nil
	}}
}

// onlyInbox reports whether the batch is receipts from the inbox alone
// (DrainInbox's own transactions).
func (t *txn) onlyInbox() bool {
	for _, r := range t.batch {
		if r.receipt == nil || r.receipt.inboxID == 0 {
			return false
		}
	}
	return len(t.batch) > 0
}

// fromInbox reports whether the batch has receipts from the inbox.
func (t *txn) fromInbox() bool {
	for _, i := range t.rcs {
		if t.batch[i].receipt.inboxID != 0 {
			return true
		}
	}
	return false
}

// unclaimed reports whether receipt j (into rcs) came from the inbox and
// another drain took it. A claim serves once: should one batch hold a row
// twice, only the first copy is applied.
func (t *txn) unclaimed(j int) bool {
	id := t.batch[t.rcs[j]].receipt.inboxID
	if id == 0 {
		return false
	}
	if t.claimed[id] {
		delete(t.claimed, id)
		return false
	}
	return true
}

// Inbox reports the receipts of this store's kind (live or shadow)
// waiting in the inbox (not failed), and the age of the oldest, by the
// database's clock.
func (s *Store) Inbox(ctx context.Context) (QueueStats, error) {
	where := "failed IS NULL AND NOT shadow"
	if s.opts.Shadow {
		where = "failed IS NULL AND shadow"
	}
	return s.queueStats(ctx, "smpp.receipt_inbox", where)
}
