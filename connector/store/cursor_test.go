package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/store"
)

// The relay and the drain read above a cursor (connector/internal/
// queuecursor). Ids are taken at insert, not at commit: a row whose
// transaction commits after a later row was read must still be read, by
// the next reads while its transaction is younger than the cursor's grace,
// by the read from the beginning after that. Each case holds the row's
// transaction open for a while, reading meanwhile, and wants the row read
// once after its commit: within the grace with no full read at all, and
// beyond it by a full read.
type lateCommit struct {
	name             string
	open             time.Duration // the row's transaction
	grace, fullEvery time.Duration // the cursors'
}

var lateCommits = []lateCommit{
	{"within the grace", 50 * time.Millisecond, 3 * time.Second, time.Hour},
	{"beyond the grace, by the full read", 700 * time.Millisecond, 100 * time.Millisecond, time.Second},
}

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

func TestAnEventCommittedAfterALaterOneIsStillRelayed(t *testing.T) {
	for _, lc := range lateCommits {
		t.Run(lc.name, func(t *testing.T) { relayLateCommit(t, lc) })
	}
}

func relayLateCommit(t *testing.T, lc lateCommit) {
	s, dsn := openStore(t, lc)
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
	// Events before: the cursor has moved.
	for i := range 3 {
		prepare(t, s, "mno-a", fmt.Sprintf("early%d", i), 1)
		accept(t, s, "mno-a", fmt.Sprintf("early%d", i), 1, fmt.Sprintf("ke%d", i))
		pass()
		time.Sleep(100 * time.Millisecond)
	}
	tx, err := connect(t, dsn).Begin(ctxT(t))
	ok(t, err)
	_, err = tx.Exec(ctxT(t), `INSERT INTO smpp.event_outbox (kind, operator_id, message_id, part_number, part_count, status, at)
		VALUES ('outcome', 'mno-a', 'late', 1, 1, 'accepted', now())`)
	ok(t, err)
	prepare(t, s, "mno-a", "after", 1)
	accept(t, s, "mno-a", "after", 1, "ka") // a higher id, committed first
	eventually(t, "the later event", pass, func() bool { return slices.Contains(got, "after") })
	for end := time.Now().Add(lc.open); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		pass()
	}
	ok(t, tx.Commit(ctxT(t)))
	eventually(t, "the event committed late", pass, func() bool { return slices.Contains(got, "late") })
	pass()
	want := []string{"early0", "early1", "early2", "after", "late"}
	if !slices.Equal(got, want) {
		t.Fatalf("relayed %q, want %q (each once)", got, want)
	}
}

func TestAReceiptCommittedAfterALaterOneIsStillDrained(t *testing.T) {
	for _, lc := range lateCommits {
		t.Run(lc.name, func(t *testing.T) { drainLateCommit(t, lc) })
	}
}

func drainLateCommit(t *testing.T, lc lateCommit) {
	s, dsn := openStore(t, lc)
	var got []string
	pass := func() {
		drained, _, err := s.DrainInbox(ctxT(t), 100)
		ok(t, err)
		for _, d := range drained {
			got = append(got, d.Receipt.SMSCKey)
		}
	}
	for i := range 3 {
		ok(t, s.AppendReceipt(ctxT(t), inboxReceipt("mno-a", fmt.Sprintf("early%d", i), dlr.Delivered)))
		pass()
		time.Sleep(100 * time.Millisecond)
	}
	// Another process's append, its transaction open.
	tx, err := connect(t, dsn).Begin(ctxT(t))
	ok(t, err)
	_, err = tx.Exec(ctxT(t), `INSERT INTO smpp.receipt_inbox (operator_id, smsc_key, smsc_message_id, receipt_state, received_at, raw)
		VALUES ('mno-a', 'late', 'raw-late', 'DELIVERED', now(), 'id:raw-late')`)
	ok(t, err)
	ok(t, s.AppendReceipt(ctxT(t), inboxReceipt("mno-a", "after", dlr.Delivered)))
	eventually(t, "the later receipt", pass, func() bool { return slices.Contains(got, "after") })
	for end := time.Now().Add(lc.open); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		pass()
	}
	ok(t, tx.Commit(ctxT(t)))
	eventually(t, "the receipt committed late", pass, func() bool { return slices.Contains(got, "late") })
	pass()
	want := []string{"early0", "early1", "early2", "after", "late"}
	if !slices.Equal(got, want) {
		t.Fatalf("drained %q, want %q (each once)", got, want)
	}
}

func openStore(t *testing.T, lc lateCommit) (*store.Store, string) {
	t.Helper()
	s, dsn := open(t, store.Options{})
	s.SetQueueCursors(lc.grace, lc.fullEvery)
	return s, dsn
}
