package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smpp-connector/smpp-connector/connector/internal/queuecursor"
)

// The event outbox (smpp.event_outbox, migration 00006). RecordOutcome and
// MatchReceipt write the event of every state change they make in the same
// transaction as the change: an outcome event for each outcome applied, a
// receipt event for each receipt applied (held receipts when their outcome
// releases them). A relay (connector/relay) publishes the rows in id order
// and deletes them once JetStream has acknowledged them, so an event is
// published at least once whatever fails in between, and its message id
// (connector/events: per message, part and state) lets JetStream's
// duplicate window drop a second publish.

// Event kinds.
const (
	EventOutcome = "outcome"
	EventReceipt = "receipt"
)

// Event is one row of the outbox: an outcome or a receipt event's fields.
type Event struct {
	ID            int64 // the outbox row
	Kind          string
	OperatorID    string
	MessageID     string
	Part          int
	PartCount     int
	Status        string // accepted, rejected, unknown; or the receipt status (dlr.Status)
	SMSCMessageID string
	CommandStatus uint32 // outcome
	Detail        string // outcome: why (ESME_RINVDSTADR, "no submit_sm_resp within 10s")
	Stat, Err     string // receipt: raw stat: and err:
	PartsReceived int    // receipt: the message's parts with a receipt so far
	SubmittedAt   time.Time
	DoneAt        time.Time
	At            time.Time // outcome: response (or timeout) time; receipt: time received
	Shadow        bool      // written by a replica in shadow mode (Options.Shadow)
	CreatedAt     time.Time // when the row was written
}

// Events is signalled after a commit that wrote events: a relay waits on it
// (and polls, for rows other processes wrote). One signal may stand for
// several commits.
func (s *Store) Events() <-chan struct{} { return s.written }

func (s *Store) eventsWritten() {
	select {
	case s.written <- struct{}{}:
	default:
	}
}

// relayLockSpace is the advisory lock that lets one relay work at a time.
const relayLockSpace int32 = 0x736d7072 // "smpr"

// outboxSelectSQL takes the oldest events, if this transaction gets the
// relay lock: one relay works at a time, whatever the number of replicas,
// so the events reach JetStream in the order they were stored (two relays
// taking alternate batches would let a part's later event overtake an
// earlier one). A shadow relay ($2) takes only shadow rows: a live
// replica's events are not its to drop. The lock is the only one: rows
// locked one by one (FOR UPDATE) would cost a write per event for nothing.
// It reads above $4, where the store's cursor says the events not read yet
// begin (connector/internal/queuecursor), rather than through the index
// entries of every event deleted since the last VACUUM, and returns its
// snapshot's xmin for the cursor (the transaction id it also needs is read
// at the end of the pass, xidSQL: taken at the SELECT, it would hold every
// snapshot's xmin back while the events are published, up to
// PublishTimeout).
const outboxSelectSQL = `
WITH l AS MATERIALIZED (SELECT pg_try_advisory_xact_lock($3::int4, 0) AS mine, ` + snapshotXmin + `)
SELECT o.id, o.kind, o.operator_id, o.message_id, o.part_number, o.part_count, o.status, o.smsc_message_id,
	o.command_status, o.detail, o.stat, o.err, o.parts_received, o.submitted_at, o.done_at, o.at, o.shadow, o.created_at,
	l.xmin
FROM smpp.event_outbox AS o, l
WHERE l.mine AND (o.shadow OR NOT $2::bool) AND o.id > $4
ORDER BY o.id
LIMIT $1`

// snapshotXmin and readXid are what a queue's cursor needs of a read
// (connector/internal/queuecursor): its statement snapshot's xmin, and a
// transaction id assigned after that snapshot was taken. In a select list
// the id is taken only when a row is returned (a scalar subquery runs on
// first use), so an empty read costs none.
const (
	snapshotXmin = `pg_snapshot_xmin(pg_current_snapshot())::text::int8 AS xmin`
	readXid      = `(SELECT pg_current_xact_id()::text::int8) AS xid`
)

// xidSQL is the relay transaction's id, at the end of a pass that read
// events (the DELETE has taken it, or this does).
const xidSQL = `SELECT pg_current_xact_id()::text::int8`

const outboxDeleteSQL = `DELETE FROM smpp.event_outbox WHERE id = ANY($1::int8[])`

// RelayEvents takes up to limit events from the outbox, oldest first, hands
// them to publish, and deletes those publish reports done (the ids of the
// events JetStream acknowledged). One relay works at a time (the others'
// passes find nothing while it holds the relay lock: outboxSelectSQL). A shadow relay (shadow set) takes only the events a shadow
// replica wrote. It returns how many events it took. Two round trips: BEGIN
// and the read, then the delete and COMMIT.
//
// The delete commits without waiting for the WAL flush (synchronous_commit
// off): if the database crashes before the flush, the events come back and
// are published again, which JetStream's duplicate window absorbs if the
// database is back within it (two minutes).
func (s *Store) RelayEvents(ctx context.Context, limit int, shadow bool, publish func(context.Context, []Event) (done []int64)) (int, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("outbox: %w", err)
	}
	defer conn.Release()
	committed := false
	defer func() {
		if !committed {
			rollback(ctx, conn)
		}
	}()
	var (
		evs  []Event
		done []int64
		snap queuecursor.Snapshot
		read = s.outboxCursor(shadow).Begin()
	)
	defer func() { s.endRelayRead(read, evs, done, committed, snap) }()
	err = roundTrip(ctx, conn, []step{
		execStep("begin", "BEGIN"),
		execStep("asynchronous commit", "SET LOCAL synchronous_commit = off"),
		{sql: outboxSelectSQL, args: []any{limit, shadow, relayLockSpace, read.From}, read: func(br pgx.BatchResults) error {
			rows, _ := br.Query()
			var err error
			evs, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Event, error) {
				return scanEvent(row, &snap.Xmin)
			})
			return err
		}},
	})
	if err != nil {
		return 0, fmt.Errorf("outbox: read: %w", err)
	}
	if len(evs) > 0 {
		done = publish(ctx, evs)
	}
	// What was published is deleted even if the relay is being stopped
	// meanwhile: otherwise it is published again.
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var end []step
	if len(done) > 0 {
		end = append(end, execStep("delete published", outboxDeleteSQL, done))
	}
	if len(evs) > 0 {
		end = append(end, step{sql: xidSQL, read: func(br pgx.BatchResults) error {
			return br.QueryRow().Scan(&snap.Xid)
		}})
	}
	end = append(end, execStep("commit", "COMMIT"))
	if err := roundTrip(ectx, conn, end); err != nil {
		return len(evs), fmt.Errorf("outbox: %w", err)
	}
	committed = true
	return len(evs), nil
}

// outboxCursor is the cursor of a live (shadow false) or a shadow relay's
// reads: they read different rows.
func (s *Store) outboxCursor(shadow bool) *queuecursor.Cursor {
	if shadow {
		return s.outboxCursors[1]
	}
	return s.outboxCursors[0]
}

// endRelayRead tells the relay's cursor what its read found: every event it
// read is still in the outbox but those deleted as done, if the delete
// committed.
func (s *Store) endRelayRead(read queuecursor.Read, evs []Event, done []int64, committed bool, snap queuecursor.Snapshot) {
	ids := make([]int64, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	deleted := make(map[int64]bool, len(done))
	if committed {
		for _, id := range done {
			deleted[id] = true
		}
	}
	maxRead, lowestLeft := queuecursor.Extent(ids, func(id int64) bool { return !deleted[id] })
	read.End(maxRead, lowestLeft, snap)
}

// scanEvent reads an outbox row, and extra columns after it into extra.
func scanEvent(row pgx.CollectableRow, extra ...any) (Event, error) {
	var (
		e                           Event
		part, count                 int16
		raw, detail, stat, errField *string
		cs                          *int32
		received                    *int16
		submitted, done             *time.Time
	)
	err := row.Scan(append([]any{&e.ID, &e.Kind, &e.OperatorID, &e.MessageID, &part, &count, &e.Status, &raw, &cs, &detail,
		&stat, &errField, &received, &submitted, &done, &e.At, &e.Shadow, &e.CreatedAt}, extra...)...)
	if err != nil {
		return e, err
	}
	e.Part, e.PartCount = int(part), int(count)
	e.SMSCMessageID, e.Detail, e.Stat, e.Err = deref(raw), deref(detail), deref(stat), deref(errField)
	if cs != nil {
		e.CommandStatus = uint32(*cs)
	}
	if received != nil {
		e.PartsReceived = int(*received)
	}
	e.SubmittedAt, e.DoneAt = derefTime(submitted), derefTime(done)
	return e, nil
}

// QueueStats are the size of a queue table (the event outbox, the receipt
// inbox) and the age of its oldest row.
type QueueStats struct {
	// Pending counts the rows waiting, up to queueCountCap (a backlog
	// larger than that reads as the cap: the count stays cheap).
	Pending int
	// Lag is the age of the oldest row, by the database's clock (the one
	// that stamped it); 0 when empty.
	Lag time.Duration
}

// queueCountCap bounds the count of queueStats: a full count of a large
// backlog would scan it every few seconds while it drains.
const queueCountCap = 1_000_000

// Outbox reports the events waiting to be published.
func (s *Store) Outbox(ctx context.Context) (QueueStats, error) {
	return s.queueStats(ctx, "smpp.event_outbox", "true")
}

// queueStats counts a queue table's rows that match where (capped) and
// reads the age of the oldest. table and where are constants of ours.
func (s *Store) queueStats(ctx context.Context, table, where string) (QueueStats, error) {
	var (
		st  QueueStats
		lag *float64
	)
	err := s.pool.QueryRow(ctx, `SELECT
	(SELECT count(*) FROM (SELECT 1 FROM `+table+` WHERE `+where+` LIMIT $1) AS c),
	(SELECT extract(epoch FROM now() - created_at)::float8 FROM `+table+` WHERE `+where+` ORDER BY id LIMIT 1)`,
		queueCountCap).Scan(&st.Pending, &lag)
	if err != nil {
		return st, fmt.Errorf("%s: %w", table, err)
	}
	if lag != nil && *lag > 0 {
		st.Lag = time.Duration(*lag * float64(time.Second))
	}
	return st, nil
}
