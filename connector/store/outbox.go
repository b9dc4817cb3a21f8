package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
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

const outboxSelectSQL = `
SELECT id, kind, operator_id, message_id, part_number, part_count, status, smsc_message_id,
	command_status, detail, stat, err, parts_received, submitted_at, done_at, at, created_at
FROM smpp.event_outbox
ORDER BY id
LIMIT $1
FOR UPDATE SKIP LOCKED`

const outboxDeleteSQL = `DELETE FROM smpp.event_outbox WHERE id = ANY($1::int8[])`

// RelayEvents takes up to limit events from the outbox, oldest first, hands
// them to publish, and deletes those publish reports done (the ids of the
// events JetStream acknowledged). The events are locked while publish runs,
// so two relays (two replicas) never publish the same rows at once; rows
// locked by another relay are skipped. It returns how many events it took.
// Two round trips: BEGIN and the read, then the delete and COMMIT.
//
// The delete commits without waiting for the WAL flush (synchronous_commit
// off): if the database crashes before the flush, the events come back and
// are published again, which JetStream's duplicate window absorbs.
func (s *Store) RelayEvents(ctx context.Context, limit int, publish func(context.Context, []Event) (done []int64)) (int, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("outbox: %w", err)
	}
	defer conn.Release()
	committed := false
	defer func() {
		if !committed && conn.Conn().PgConn().TxStatus() != 'I' {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_, _ = conn.Exec(rctx, "ROLLBACK")
		}
	}()
	var evs []Event
	err = roundTrip(ctx, conn, []step{
		execStep("begin", "BEGIN"),
		execStep("asynchronous commit", "SET LOCAL synchronous_commit = off"),
		{sql: outboxSelectSQL, args: []any{limit}, read: func(br pgx.BatchResults) error {
			rows, _ := br.Query()
			var err error
			evs, err = pgx.CollectRows(rows, scanEvent)
			return err
		}},
	})
	if err != nil {
		return 0, fmt.Errorf("outbox: read: %w", err)
	}
	var done []int64
	if len(evs) > 0 {
		done = publish(ctx, evs)
	}
	end := []step{execStep("commit", "COMMIT")}
	if len(done) > 0 {
		end = append([]step{execStep("delete published", outboxDeleteSQL, done)}, end...)
	}
	if err := roundTrip(ctx, conn, end); err != nil {
		return len(evs), fmt.Errorf("outbox: %w", err)
	}
	committed = true
	return len(evs), nil
}

func scanEvent(row pgx.CollectableRow) (Event, error) {
	var (
		e                           Event
		part, count                 int16
		raw, detail, stat, errField *string
		cs                          *int32
		received                    *int16
		submitted, done             *time.Time
	)
	err := row.Scan(&e.ID, &e.Kind, &e.OperatorID, &e.MessageID, &part, &count, &e.Status, &raw, &cs, &detail,
		&stat, &errField, &received, &submitted, &done, &e.At, &e.CreatedAt)
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

// OutboxStats are the outbox's size and the age of its oldest event.
type OutboxStats struct {
	Pending int
	Oldest  time.Time // zero when empty
}

// Outbox reports the events waiting to be published.
func (s *Store) Outbox(ctx context.Context) (OutboxStats, error) {
	var (
		st     OutboxStats
		oldest *time.Time
	)
	if err := s.pool.QueryRow(ctx, `SELECT count(*), min(created_at) FROM smpp.event_outbox`).Scan(&st.Pending, &oldest); err != nil {
		return st, fmt.Errorf("outbox: %w", err)
	}
	st.Oldest = derefTime(oldest)
	return st, nil
}
