package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/store"
)

func inboxReceipt(op, key string, status dlr.Status) store.Receipt {
	return store.Receipt{OperatorID: op, SMSCKey: key, RawID: "raw-" + key, Status: status, Stat: "DELIVRD",
		Err: "000", Raw: "id:raw-" + key + " stat:DELIVRD"}
}

func inboxRows(t testing.TB, dsn, where string) int {
	t.Helper()
	var n int
	ok(t, connect(t, dsn).QueryRow(ctxT(t), `SELECT count(*) FROM smpp.receipt_inbox WHERE `+where).Scan(&n))
	return n
}

// drainAll drains until the inbox has nothing left for s.
func drainAll(t testing.TB, s *store.Store) []store.Drained {
	t.Helper()
	var all []store.Drained
	for {
		got, more, err := s.DrainInbox(ctxT(t), 100)
		ok(t, err)
		all = append(all, got...)
		if !more {
			return all
		}
	}
}

// An appended receipt is committed before AppendReceipt returns, and the
// drain applies it (or holds it) exactly like MatchReceipt, its event in
// the outbox, its inbox row gone in the same transaction.
func TestAppendedReceiptsAreAppliedOrHeldByTheDrain(t *testing.T) {
	s, dsn := open(t, store.Options{})
	prepare(t, s, "mno-a", "m1", 1)
	accept(t, s, "mno-a", "m1", 1, "k1")
	wantEvents(t, s, "outcome m1 1 accepted")

	ok(t, s.AppendReceipt(ctxT(t), inboxReceipt("mno-a", "k1", dlr.Delivered)))
	ok(t, s.AppendReceipt(ctxT(t), inboxReceipt("mno-a", "k2", dlr.Delivered))) // before its response
	if n := inboxRows(t, dsn, "true"); n != 2 {
		t.Fatalf("%d inbox rows after two appends", n)
	}
	select {
	case <-s.Inboxed():
	default:
		t.Fatal("no cue after an append")
	}
	got := drainAll(t, s)
	if len(got) != 2 || got[0].Matched.Disposition != store.Applied || got[0].Matched.MessageID != "m1" ||
		got[1].Matched.Disposition != store.Held || got[0].Receipt.SMSCKey != "k1" {
		t.Fatalf("drained %+v", got)
	}
	if n := inboxRows(t, dsn, "true"); n != 0 {
		t.Fatalf("%d inbox rows left after the drain", n)
	}
	wantEvents(t, s, "receipt m1 1 DELIVERED")
	prepare(t, s, "mno-a", "m2", 1)
	if res := accept(t, s, "mno-a", "m2", 1, "k2"); len(res.Receipts) != 1 {
		t.Fatalf("held receipt not released by its outcome: %+v", res)
	}
	wantEvents(t, s, "outcome m2 1 accepted", "receipt m2 1 DELIVERED")
}

// A receipt appended by a process that died before its drain is applied by
// the next process; two drains at once (two replicas) apply each receipt
// once: the one whose transaction deleted the inbox row.
func TestEachInboxReceiptIsAppliedOnceAcrossProcesses(t *testing.T) {
	first, dsn := open(t, store.Options{})
	const n = 400
	prepareMany(t, first, "mno-a", "m", n)
	for i := range n {
		accept(t, first, "mno-a", fmt.Sprintf("m%d", i), 1, fmt.Sprintf("k%d", i))
	}
	outbox(t, first)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := first.AppendReceipt(ctxT(t), inboxReceipt("mno-a", fmt.Sprintf("k%d", i), dlr.Delivered)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if st := first.Stats(); st.Appended != n || st.Appends >= n {
		t.Fatalf("%d receipts appended in %d INSERTs: want %d in fewer (group commit)", st.Appended, st.Appends, n)
	}
	first.Close() // dies before draining

	a := must[*store.Store](t)(store.Open(ctxT(t), dsn, store.Options{BatchSize: 16}))
	defer a.Close()
	b := must[*store.Store](t)(store.Open(ctxT(t), dsn, store.Options{BatchSize: 16}))
	defer b.Close()
	applied := make([]int, 2)
	for k, s := range []*store.Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, d := range drainAll(t, s) {
				if d.Err != nil || d.Matched.Disposition != store.Applied {
					t.Errorf("drained %+v", d)
				}
				applied[k]++
			}
		}()
	}
	wg.Wait()
	if applied[0]+applied[1] != n {
		t.Fatalf("applied %d + %d receipts, want %d", applied[0], applied[1], n)
	}
	var counted, delivered int
	ok(t, connect(t, dsn).QueryRow(ctxT(t), `SELECT sum(receipt_count), count(*) FILTER (WHERE receipt_state = 'DELIVERED')
		FROM smpp.message_correlations`).Scan(&counted, &delivered))
	if counted != n || delivered != n {
		t.Fatalf("receipt_count sums to %d, %d parts delivered; want %d", counted, delivered, n)
	}
	if evs := outbox(t, a); len(evs) != n {
		t.Fatalf("%d receipt events, want %d", len(evs), n)
	}
}

// A shadow replica's receipts are drained by a shadow replica only (their
// events must never be published), and a live one's by a live one.
func TestShadowAndLiveDrainTheirOwnReceipts(t *testing.T) {
	live, dsn := open(t, store.Options{})
	shadow := must[*store.Store](t)(store.Open(ctxT(t), dsn, store.Options{Shadow: true}))
	defer shadow.Close()
	prepare(t, live, "mno-a", "m1", 1)
	accept(t, live, "mno-a", "m1", 1, "k1")
	ok(t, shadow.AppendReceipt(ctxT(t), inboxReceipt("mno-a", "k1", dlr.Delivered)))
	if got := drainAll(t, live); len(got) != 0 {
		t.Fatalf("live drain took a shadow receipt: %+v", got)
	}
	if got := drainAll(t, shadow); len(got) != 1 || got[0].Matched.Disposition != store.Applied {
		t.Fatalf("shadow drain: %+v", got)
	}
	if n := inboxRows(t, dsn, "true"); n != 0 {
		t.Fatalf("%d inbox rows left", n)
	}
}

// A receipt that fails its transaction alone, for a reason a retry cannot
// fix, is moved to the unmatched receipts (reason failed, the error its
// detail) by the statement that deletes it from the inbox: it does not stop
// the receipts behind it, and it is not drained again.
func TestAnInboxReceiptThatCannotBeWrittenIsSetAsideNotRetried(t *testing.T) {
	s, dsn := open(t, store.Options{})
	prepare(t, s, "mno-a", "m1", 1)
	accept(t, s, "mno-a", "m1", 1, "k1")
	prepare(t, s, "mno-a", "m2", 1)
	accept(t, s, "mno-a", "m2", 1, "k2")
	outbox(t, s)
	// A state no receipt can have (written past AppendReceipt's checks, as a
	// bug or a hand-made row would): the part's CHECK refuses it.
	_, err := connect(t, dsn).Exec(ctxT(t), `INSERT INTO smpp.receipt_inbox (operator_id, smsc_key, smsc_message_id,
		receipt_state, received_at, raw) VALUES ('mno-a', 'k1', 'raw-k1', 'BOGUS', now(), 'x')`)
	ok(t, err)
	ok(t, s.AppendReceipt(ctxT(t), inboxReceipt("mno-a", "k2", dlr.Delivered)))

	got := drainAll(t, s)
	if len(got) != 2 || got[0].Err == nil || !got[0].Failed || got[1].Err != nil || got[1].Matched.Disposition != store.Applied {
		t.Fatalf("drained %+v", got)
	}
	if n := inboxRows(t, dsn, "true"); n != 0 {
		t.Fatalf("%d inbox rows left", n)
	}
	set := unmatchedRows(t, dsn, "true")
	if len(set) != 1 || set[0].reason != "failed" || !strings.Contains(set[0].detail, "receipt_state") ||
		set[0].key != "k1" || set[0].state != "BOGUS" || string(set[0].raw) != "x" {
		t.Fatalf("unmatched rows %+v, want the set-aside receipt naming the constraint", set)
	}
	if again := drainAll(t, s); len(again) != 0 {
		t.Fatalf("a failed receipt was drained again: %+v", again)
	}
	wantEvents(t, s, "receipt m2 1 DELIVERED")

	// Retention: Purge deletes the set-aside receipts as old as the rows
	// it purges, and only those: not a receipt waiting in the inbox.
	ok(t, s.AppendReceipt(ctxT(t), inboxReceipt("mno-a", "k3", dlr.Delivered)))
	if _, err := s.Purge(ctxT(t), 0, 0); err != nil {
		t.Fatal(err)
	}
	if n, left := len(unmatchedRows(t, dsn, "true")), inboxRows(t, dsn, "true"); n != 0 || left != 1 {
		t.Fatalf("after Purge: %d set-aside rows, %d waiting; want 0 and 1", n, left)
	}
}

// AppendReceipt refuses what MatchReceipt refuses, before the database.
func TestAppendReceiptRefusesInvalidReceipts(t *testing.T) {
	s, dsn := open(t, store.Options{})
	err := s.AppendReceipt(ctxT(t), store.Receipt{OperatorID: "mno-a", SMSCKey: "k1", Status: "NOPE"})
	if !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("invalid status: %v", err)
	}
	if n := inboxRows(t, dsn, "true"); n != 0 {
		t.Fatalf("%d rows written", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	s.Close()
	if err := s.AppendReceipt(ctx, inboxReceipt("mno-a", "k1", dlr.Delivered)); err != store.ErrClosed {
		t.Fatalf("after Close: %v", err)
	}
}

// Receipts of one part are applied in the order they were appended, even
// though the writer's transactions run side by side: a drain takes only the
// oldest receipt of a key and leaves the rest for its next call.
func TestInboxReceiptsOfOnePartAreAppliedInOrder(t *testing.T) {
	s, _ := open(t, store.Options{Flushers: 4, Linger: -1})
	prepare(t, s, "mno-a", "m1", 1)
	accept(t, s, "mno-a", "m1", 1, "k1")
	outbox(t, s)
	for _, st := range []dlr.Status{dlr.Accepted, dlr.Enroute, dlr.Delivered} {
		ok(t, s.AppendReceipt(ctxT(t), inboxReceipt("mno-a", "k1", st)))
	}
	got, more, err := s.DrainInbox(ctxT(t), 100)
	ok(t, err)
	if len(got) != 1 || !more || got[0].Receipt.Status != dlr.Accepted {
		t.Fatalf("first call: %+v, more %v; want the oldest receipt only, and more", got, more)
	}
	rest := drainAll(t, s)
	if len(rest) != 2 || rest[0].Receipt.Status != dlr.Enroute || rest[1].Receipt.Status != dlr.Delivered {
		t.Fatalf("then: %+v", rest)
	}
	wantEvents(t, s, "receipt m1 1 ACCEPTED", "receipt m1 1 ENROUTE", "receipt m1 1 DELIVERED")
}

// Handlers that run side by side may append a part's receipts in another
// order than the SMSC sent them (session.Arrival stamped that order in
// Received): the drain applies the first received first, and both have
// their events (an intermediate receipt applied after its final one would
// be stale: no event).
func TestInboxReceiptsAreAppliedInTheOrderReceived(t *testing.T) {
	s, _ := open(t, store.Options{Linger: -1})
	prepare(t, s, "mno-a", "m1", 1)
	accept(t, s, "mno-a", "m1", 1, "k1")
	outbox(t, s)
	sent := time.Now()
	final, intermediate := inboxReceipt("mno-a", "k1", dlr.Delivered), inboxReceipt("mno-a", "k1", dlr.Accepted)
	final.Received, intermediate.Received = sent.Add(time.Millisecond), sent
	ok(t, s.AppendReceipt(ctxT(t), final)) // appended first, received second
	ok(t, s.AppendReceipt(ctxT(t), intermediate))
	got, more, err := s.DrainInbox(ctxT(t), 100)
	ok(t, err)
	if len(got) != 1 || !more || got[0].Receipt.Status != dlr.Accepted {
		t.Fatalf("first call: %+v, more %v; want the first received only, and more", got, more)
	}
	if rest := drainAll(t, s); len(rest) != 1 || rest[0].Receipt.Status != dlr.Delivered || rest[0].Matched.Disposition != store.Applied {
		t.Fatalf("then: %+v", rest)
	}
	wantEvents(t, s, "receipt m1 1 ACCEPTED", "receipt m1 1 DELIVERED")
}

// A receipt waits in the inbox for a moment; meanwhile an SMSC that
// restarted may give its id to a new message. The receipt came before that
// message was submitted, so it is the older message's: it is not applied to
// the new one, but held with the older one as its candidate (found by the
// key the new part took from it), and the sweep gives it to the older one.
func TestAnInboxReceiptIsNotGivenToAPartThatTookItsIDAfterItCame(t *testing.T) {
	s, dsn := open(t, store.Options{})
	prepare(t, s, "mno-a", "old", 1)
	accept(t, s, "mno-a", "old", 1, "k1")
	time.Sleep(5 * time.Millisecond)
	epoch := time.Now() // the SMSC restarted: the binds came back
	rc := inboxReceipt("mno-a", "k1", dlr.Delivered)
	rc.Received = epoch.Add(time.Millisecond)
	rc.NotBefore, rc.Horizon, rc.HoldFor = epoch, epoch.Add(-72*time.Hour), 30*time.Second
	ok(t, s.AppendReceipt(ctxT(t), rc))
	// Before the drain: a new message is submitted and the SMSC gives it k1.
	time.Sleep(5 * time.Millisecond)
	prepare(t, s, "mno-a", "new", 1)
	_, err := s.RecordOutcome(ctxT(t), store.Outcome{OperatorID: "mno-a", MessageID: "new", Part: 1, Kind: store.Accepted,
		SMSCMessageID: "raw-k1", SMSCKey: "k1", SequenceNumber: 2, SubmittedAt: time.Now()})
	ok(t, err)
	wantEvents(t, s, "outcome old 1 accepted", "outcome new 1 accepted")

	got := drainAll(t, s)
	if len(got) != 1 || got[0].Matched.Disposition != store.Held {
		t.Fatalf("drained %+v, want the receipt held", got)
	}
	var candidate string
	ok(t, connect(t, dsn).QueryRow(ctxT(t), `SELECT mc.message_id FROM smpp.pending_receipts AS p
		JOIN smpp.message_correlations AS mc ON mc.id = p.candidate_id`).Scan(&candidate))
	if candidate != "old" {
		t.Fatalf("candidate %q, want old", candidate)
	}
	// The hold has passed (aged in the table rather than waited for).
	_, err = connect(t, dsn).Exec(ctxT(t), `UPDATE smpp.pending_receipts SET hold_until = now() - interval '1 second'`)
	ok(t, err)
	swept, err := s.SweepHeldReceipts(ctxT(t))
	ok(t, err)
	if len(swept) != 1 || swept[0].Matched.MessageID != "old" || swept[0].Matched.Disposition != store.Applied {
		t.Fatalf("swept %+v, want the receipt applied to old", swept)
	}
	wantEvents(t, s, "receipt old 1 DELIVERED")
}

// One batch may hold an inbox row twice (a drain cut short by a stop left
// its requests in the writer, and the last passes read the row again): the
// row's claim serves one copy, the other is skipped, and the part counts
// one receipt.
func TestAnInboxRowTwiceInOneBatchIsAppliedOnce(t *testing.T) {
	s, dsn := open(t, store.Options{})
	prepare(t, s, "mno-a", "m1", 1)
	accept(t, s, "mno-a", "m1", 1, "k1")
	outbox(t, s)
	ok(t, s.AppendReceipt(ctxT(t), inboxReceipt("mno-a", "k1", dlr.Delivered)))
	got, err := s.DrainRowTwice(ctxT(t))
	ok(t, err)
	if len(got) != 2 || got[0].Disposition != store.Applied || got[1].Disposition != 0 {
		t.Fatalf("dispositions %v and %v, want applied and skipped", got[0].Disposition, got[1].Disposition)
	}
	var count int
	ok(t, connect(t, dsn).QueryRow(ctxT(t), `SELECT receipt_count FROM smpp.message_correlations WHERE message_id = 'm1'`).Scan(&count))
	if count != 1 {
		t.Fatalf("receipt_count %d, want 1", count)
	}
	wantEvents(t, s, "receipt m1 1 DELIVERED")
}

// With InboxLinger, a receipt that comes while the first of an INSERT
// waits joins it: two appends 20 ms apart are one commit. (Without it the
// first is written at once, alone: AppendReceipt returns before the second
// is made, which the linger would not allow.)
func TestInboxLingerGathersReceiptsThatComeSoonAfter(t *testing.T) {
	// Long enough that the second append (20 ms later, on a busy machine
	// perhaps much later) comes within it; the test waits that long.
	s, _ := open(t, store.Options{InboxLinger: 2 * time.Second})
	done := make(chan error, 1)
	go func() { done <- s.AppendReceipt(ctxT(t), inboxReceipt("mno-a", "k1", dlr.Delivered)) }()
	time.Sleep(20 * time.Millisecond)
	ok(t, s.AppendReceipt(ctxT(t), inboxReceipt("mno-a", "k2", dlr.Delivered)))
	ok(t, <-done)
	if st := s.Stats(); st.Appended != 2 || st.Appends != 1 {
		t.Fatalf("with a linger: %d receipts in %d INSERTs, want 2 in 1", st.Appended, st.Appends)
	}
	eager, _ := open(t, store.Options{})
	ok(t, eager.AppendReceipt(ctxT(t), inboxReceipt("mno-a", "k1", dlr.Delivered)))
	if st := eager.Stats(); st.Appended != 1 || st.Appends != 1 {
		t.Fatalf("without a linger: %d receipts in %d INSERTs, want the lone receipt written at once", st.Appended, st.Appends)
	}
}
