package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
)

// Advisory lock namespaces (the two-int4 form, a key space of its own).
const (
	keyLockSpace     int32 = 0x736d706b // "smpk": (operator, SMSC key)
	messageLockSpace int32 = 0x736d706d // "smpm": message id
)

// lockSQL takes transaction advisory locks in the order given (sorted by the
// caller, so that transactions never wait for each other in a cycle).
const lockSQL = `SELECT pg_advisory_xact_lock($1::int4, k) FROM unnest($2::int4[]) AS k`

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

// txn is one flush transaction: the batch sorted by kind of request, and
// what its round trips read. Each kind has its statement builders, in a
// file of its own: steps that queue a statement and read its result.
//
//   - flush_outcome.go: outcomes (submit_sm_resp or timeout), and releasing
//     SMSC ids reused by an SMSC (steal);
//   - flush_prepare.go: prepares (a row per part before sending);
//   - flush_receipt.go: receipts, matched to their parts or held, and the
//     held receipts an accepted outcome releases (round 1);
//   - flush_receipt_write.go: applying them, counting the parts of
//     multipart messages, storing and holding them (round 2).
type txn struct {
	s     *Store
	batch []*request
	res   []response
	steal bool
	// generic: the statements on message_correlations may use generic
	// plans (Store.genericPlans); planMode is the mode set so far in this
	// transaction ("": the session's, force_custom_plan).
	generic  bool
	planMode string

	preps, outs, rcs []int          // batch indexes by kind
	sweep            int            // batch index of a sweep (epoch.go); -1: none
	keyLocks         map[int32]bool // advisory locks on (operator, SMSC key)
	claimed          map[int64]bool // inbox rows this transaction took (claimStep)
	acc              acceptedKeys   // the accepted outcomes' keys

	// Round 1 reads.
	displaced [][5]any        // parts whose reused SMSC id was taken (steal)
	rowsByID  map[int64]*part // every part a receipt applies to, once
	prepared  map[partKey]preparedPart
	heldApps  []*application // held receipts taken by accepted outcomes
	matchedTo []*part        // receipt j's part (rcs[j]), nil: hold it

	// Between the rounds.
	apps      []*application  // every receipt applied, held ones first
	hold      []int           // receipt indexes (into rcs) to hold
	multipart map[string]bool // message ids of multipart messages with receipts

	// Round 2 reads.
	heldIDs  []int64                       // the new pending_receipts ids of hold
	siblings map[string]map[int]dlr.Status // message id -> part -> receipt state
	events   int                           // receipt events written to the outbox
}

// step is one statement of a round trip: queued with its arguments, its
// result read in the same order.
type step struct {
	sql  string
	args []any
	read func(br pgx.BatchResults) error
}

// execStep is a statement whose result is only its success.
func execStep(what, sql string, args ...any) step {
	return step{sql: sql, args: args, read: func(br pgx.BatchResults) error {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}}
}

// rollback ends a transaction left open on conn by a failed round trip
// (if the connection is broken, the pool closes it on release).
func rollback(ctx context.Context, conn *pgxpool.Conn) {
	if conn.Conn().PgConn().TxStatus() != 'I' {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_, _ = conn.Exec(rctx, "ROLLBACK")
	}
}

// roundTrip sends the steps as one pipelined batch and reads their results.
func roundTrip(ctx context.Context, conn *pgxpool.Conn, steps []step) error {
	b := &pgx.Batch{}
	for _, st := range steps {
		b.Queue(st.sql, st.args...)
	}
	br := conn.SendBatch(ctx, b)
	defer br.Close()
	for _, st := range steps {
		if err := st.read(br); err != nil {
			return err
		}
	}
	return br.Close()
}

// flushTx writes a batch in one transaction and returns each request's
// result. The transaction is two pipelined round trips (BEGIN and COMMIT
// travel with the statements): the first stores prepares and outcomes and
// reads what the receipts need, the second writes the receipts. A batch
// with neither receipts nor accepted outcomes commits in the first; one
// that applies a receipt to a part of a multipart message takes a third
// (its event carries the count read in the second).
func (s *Store) flushTx(ctx context.Context, batch []*request, steal bool) ([]response, error) {
	t := &txn{s: s, batch: batch, res: make([]response, len(batch)), steal: steal, generic: s.genericPlans.Load(),
		keyLocks: map[int32]bool{}, rowsByID: map[int64]*part{}, siblings: map[string]map[int]dlr.Status{}}
	t.sortByKind()

	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	committed := false
	defer func() {
		if !committed {
			rollback(ctx, conn)
		}
	}()

	// Round 1: lock the keys, store the outcomes, take the receipts held
	// for the accepted keys, find (and lock) the parts of the receipts,
	// insert and read the prepared parts.
	steps := t.firstRound()
	commitNow := len(t.rcs) == 0 && t.acc.len() == 0 && t.sweep < 0
	if commitNow {
		steps = append(steps, execStep("commit", "COMMIT"))
	} else {
		// Round 2 and after (the receipts' parts and states, the held
		// receipts' inserts, the events) read message_correlations by its
		// indexes, or insert.
		steps = t.plans(steps, tablePlans)
	}
	if err := roundTrip(ctx, conn, steps); err != nil {
		return nil, err
	}
	if commitNow {
		committed = true
		if len(t.outs) > 0 {
			s.eventsWritten()
		}
	}
	if len(t.preps) > 0 {
		// Parts a concurrent transaction inserted while this one waited
		// (rare): read once they are committed, in this transaction or
		// after it.
		if msgs, parts := t.missingPrepared(); len(msgs) > 0 {
			if err := roundTrip(ctx, conn, []step{t.prepareMissingStep(msgs, parts)}); err != nil {
				return nil, err
			}
		}
		if err := t.preparedResults(); err != nil {
			return nil, err
		}
	}
	if commitNow {
		return t.res, nil
	}

	t.applyReceipts()

	// Round 2: lock the multipart messages and read their parts' receipt
	// states (for the counts), write the receipt states, hold the receipts
	// that matched nothing, write the receipt events to the outbox, commit.
	// A multipart message's events carry the count of its parts with a
	// receipt, known once round 2 has read them: then the events and the
	// commit are a third round trip.
	steps = steps[:0]
	if len(t.multipart) > 0 {
		steps = append(steps, t.siblingSteps()...)
	}
	multipart := t.appliedMultipart()
	if st, ok := t.receiptUpdateStep(); ok {
		steps = append(steps, st)
	}
	steps = append(steps, t.holdSteps()...)
	if !multipart {
		steps = append(steps, t.receiptEventSteps()...)
		steps = append(steps, execStep("commit", "COMMIT"))
	}
	if err := roundTrip(ctx, conn, steps); err != nil {
		return nil, err
	}
	t.countParts()
	if multipart {
		steps = append(steps[:0], t.receiptEventSteps()...)
		steps = append(steps, execStep("commit", "COMMIT"))
		if err := roundTrip(ctx, conn, steps); err != nil {
			return nil, err
		}
	}
	committed = true
	if len(t.outs) > 0 || t.events > 0 {
		s.eventsWritten()
	}
	t.results()
	return t.res, nil
}

// firstRound is round 1's statements, BEGIN first. With generic plans on
// (Store.genericPlans), the statements on message_correlations run under
// plan_cache_mode auto and those on the queue tables (the inbox claim, the
// held receipts) under force_custom_plan: a queue is nearly empty most of
// the time, and a generic plan cached from that scans it whole when it
// backs up (NATS down, a slow database, an SMSC answering receipts before
// responses), where a custom plan sees its size.
func (t *txn) firstRound() []step {
	steps := []step{execStep("begin", "BEGIN")}
	if t.onlyInbox() {
		// Everything this transaction writes follows from inbox rows it
		// deletes, which are durable: lost with a database crash before
		// its WAL flush, the rows come back and are drained again (see
		// the package doc, "The receipt inbox").
		steps = append(steps, execStep("asynchronous commit", "SET LOCAL synchronous_commit = off"))
	}
	if t.fromInbox() {
		steps = append(t.plans(steps, queuePlans), t.claimStep())
	}
	if len(t.keyLocks) > 0 {
		steps = append(steps, execStep("lock keys", lockSQL, keyLockSpace, sortedKeys(t.keyLocks)))
	}
	if t.steal && t.acc.len() > 0 {
		steps = append(t.plans(steps, tablePlans), t.stealStep())
	}
	if len(t.outs) > 0 {
		steps = append(t.plans(steps, tablePlans), t.outcomeStep())
	}
	if t.acc.len() > 0 {
		steps = append(t.plans(steps, queuePlans), t.heldStep())
	}
	if t.sweep >= 0 {
		steps = append(t.plans(steps, queuePlans), t.sweepStep())
	}
	if len(t.rcs) > 0 {
		steps = append(t.plans(steps, tablePlans), t.lookupStep())
	}
	if len(t.preps) > 0 {
		steps = append(t.plans(steps, tablePlans), t.prepareStep())
	}
	return steps
}

// Plan modes of a transaction's statements (firstRound).
const (
	tablePlans = "auto"              // message_correlations: generic plans once it is big
	queuePlans = "force_custom_plan" // the queue tables: planned with their current size
)

// plans appends a SET LOCAL plan_cache_mode when the statements that
// follow want another mode than the transaction's current one; nothing
// when generic plans are off (the session's mode, custom, stands).
func (t *txn) plans(steps []step, mode string) []step {
	if !t.generic || t.planMode == mode {
		return steps
	}
	if t.planMode == "" && mode == queuePlans {
		return steps // the session's mode is custom already
	}
	t.planMode = mode
	return append(steps, execStep("plan mode "+mode, "SET LOCAL plan_cache_mode = "+mode))
}

// sortByKind sorts the batch's indexes by kind of request and collects the
// key locks: an accepted outcome's and a receipt's.
func (t *txn) sortByKind() {
	t.sweep = -1
	for i, r := range t.batch {
		switch {
		case r.sweep != nil:
			t.sweep = i
			for j, op := range r.sweep.op {
				t.keyLocks[lockKey(op, r.sweep.key[j])] = true
			}
		case r.prepare != nil:
			t.preps = append(t.preps, i)
		case r.outcome != nil:
			t.outs = append(t.outs, i)
			if o := r.outcome; o.Kind == Accepted {
				t.keyLocks[lockKey(o.OperatorID, o.SMSCKey)] = true
			}
		default:
			t.rcs = append(t.rcs, i)
			t.keyLocks[lockKey(r.receipt.OperatorID, r.receipt.SMSCKey)] = true
		}
	}
	t.acc.idx = map[[2]string]int{}
	for _, i := range t.outs {
		if o := t.batch[i].outcome; o.Kind == Accepted {
			t.acc.add(o, i)
		}
	}
	// Rows are locked in one order by every transaction.
	slices.SortStableFunc(t.outs, func(x, y int) int {
		a, b := t.batch[x].outcome, t.batch[y].outcome
		if c := strings.Compare(a.MessageID, b.MessageID); c != 0 {
			return c
		}
		return a.Part - b.Part
	})
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
