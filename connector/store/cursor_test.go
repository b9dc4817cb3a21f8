package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/store"
)

// The relay and the drain read above a cursor (connector/internal/
// queuecursor). Ids are taken at insert, not at commit: a row whose
// transaction commits after later rows were read must still be read, and
// by the reads that follow its commit, not by a full read from the start
// (there is none here: FullEvery is an hour). The row's transaction stays
// open while later rows are written and read; the cursor must have moved
// before it (or the reads start at 0 and prove nothing) and must not pass
// it while it runs.
const lateCommitOpen = 700 * time.Millisecond

// eventually runs pass every 20 ms until done reports true, or fails after
// 5 s.
func eventually(t *testing.T, what string, pass func(), done func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		pass()
		if done() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAnEventCommittedAfterLaterOnesIsStillRelayed(t *testing.T) {
	s, dsn := openStore(t)
	var got []string
	pass := func() {
		_, err := s.RelayEvents(ctxT(t), 100, false, func(_ context.Context, evs []store.Event) []int64 {
			ids := make([]int64, len(evs))
			for i, e := range evs {
				got = append(got, e.MessageID)
				ids[i] = e.ID
			}
			return ids
		})
		ok(t, err)
	}
	event := func(msg string) {
		prepare(t, s, "mno-a", msg, 1)
		accept(t, s, "mno-a", msg, 1, "k-"+msg)
	}
	lateCommit(t, dsn, s, false, event, pass, &got, `INSERT INTO smpp.event_outbox
		(kind, operator_id, message_id, part_number, part_count, status, at)
		VALUES ('outcome', 'mno-a', $1, 1, 1, 'accepted', now()) RETURNING id`)
}

func TestAReceiptCommittedAfterLaterOnesIsStillDrained(t *testing.T) {
	s, dsn := openStore(t)
	var got []string
	pass := func() {
		drained, _, err := s.DrainInbox(ctxT(t), 100)
		ok(t, err)
		for _, d := range drained {
			got = append(got, d.Receipt.SMSCKey)
		}
	}
	receipt := func(key string) { ok(t, s.AppendReceipt(ctxT(t), inboxReceipt("mno-a", key, dlr.Delivered))) }
	// The late one, and the one before it, are other processes' appends.
	lateCommit(t, dsn, s, true, receipt, pass, &got, `INSERT INTO smpp.receipt_inbox
		(operator_id, smsc_key, smsc_message_id, receipt_state, received_at, raw)
		VALUES ('mno-a', $1, 'raw-' || $1, 'DELIVERED', now(), convert_to('id:raw-' || $1, 'UTF8')) RETURNING id`)
}

// lateCommit writes rows with write (named early0.., after0..) and reads
// them with pass, which notes their names in got, around two rows another
// session writes with insert ($1 the name): "late", in a transaction held
// open meanwhile, and "other", committed at once by a transaction that took
// its id before the late one's (so the late one's is not below the
// horizon of the reads that see "other").
func lateCommit(t *testing.T, dsn string, s *store.Store, inbox bool, write func(string), pass func(), got *[]string, insert string) {
	t.Helper()
	var want []string
	// Until the cursor has moved (a transaction elsewhere in a shared
	// cluster may hold it back a while): reads from 0 would prove nothing.
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; position(s, inbox) == 0; i++ {
		if time.Now().After(deadline) {
			t.Fatal("the cursor has not moved in 30s: the reads below would start at 0 and prove nothing")
		}
		name := fmt.Sprintf("early%d", i)
		want = append(want, name)
		write(name)
		pass()
		time.Sleep(10 * time.Millisecond)
	}
	other, err := connect(t, dsn).Begin(ctxT(t))
	ok(t, err)
	var xid string
	ok(t, other.QueryRow(ctxT(t), "SELECT pg_current_xact_id()::text").Scan(&xid))
	tx, err := connect(t, dsn).Begin(ctxT(t))
	ok(t, err)
	var late, id int64
	ok(t, tx.QueryRow(ctxT(t), insert, "late").Scan(&late))
	ok(t, other.QueryRow(ctxT(t), insert, "other").Scan(&id))
	ok(t, other.Commit(ctxT(t)))
	eventually(t, "other", pass, func() bool { return slices.Contains(*got, "other") })
	want = append(want, "other")
	for i := 0; i < 3; i++ { // higher ids, committed and read first
		name := fmt.Sprintf("after%d", i)
		want = append(want, name)
		write(name)
		eventually(t, name, pass, func() bool { return slices.Contains(*got, name) })
		time.Sleep(lateCommitOpen / 3)
	}
	if p := position(s, inbox); p >= late {
		t.Fatalf("the cursor is at %d, past %d whose transaction is still open", p, late)
	}
	ok(t, tx.Commit(ctxT(t)))
	eventually(t, "the row committed late", pass, func() bool { return slices.Contains(*got, "late") })
	write("after3")
	eventually(t, "after3", pass, func() bool { return slices.Contains(*got, "after3") })
	want = append(want, "late", "after3")
	if !slices.Equal(*got, want) {
		t.Fatalf("read %q, want %q (each once)", *got, want)
	}
}

// The inbox's INSERT takes its transaction id before any row takes its id
// (appendSQL): a one-time filter, run before the first row.
func TestTheInboxAppendTakesItsTransactionIDFirst(t *testing.T) {
	_, dsn := openStore(t)
	var plan []string
	rows, err := connect(t, dsn).Query(ctxT(t), "EXPLAIN "+store.AppendSQL, []string{}, []string{}, []string{}, []string{},
		[]string{}, []string{}, []time.Time{}, []time.Time{}, [][]byte{}, []time.Time{}, []time.Time{}, []float64{}, false)
	ok(t, err)
	for rows.Next() {
		var line string
		ok(t, rows.Scan(&line))
		plan = append(plan, line)
	}
	ok(t, rows.Err())
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "One-Time Filter") || !strings.Contains(text, "InitPlan") {
		t.Fatalf("the append's plan has no one-time filter taking the transaction id first:\n%s", text)
	}
}

func openStore(t *testing.T) (*store.Store, string) {
	t.Helper()
	s, dsn := open(t, store.Options{})
	s.SetQueueCursors(time.Hour)
	return s, dsn
}

// position is where the relay's (inbox false) or the drain's next read
// starts.
func position(s *store.Store, inbox bool) int64 {
	o, i := s.CursorPositions()
	if inbox {
		return i
	}
	return o
}
