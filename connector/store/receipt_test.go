package store_test

// Receipts: held before their response, racing it from two replicas,
// duplicates, final over intermediate, late answers, expiry, purge.

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/store"
)

func TestReceiptBeforeResponseIsHeldThenMatchedByTheOutcome(t *testing.T) {
	s, dsn := open(t, store.Options{})
	prepare(t, s, "mno-a", "m1", 1)
	m := receipt(t, s, "mno-a", "ABC", dlr.Enroute)
	if m.Disposition != store.Held || m.HeldID == 0 || m.MessageID != "" {
		t.Fatalf("early receipt: %+v", m)
	}
	m2 := receipt(t, s, "mno-a", "ABC", dlr.Delivered)
	if m2.Disposition != store.Held {
		t.Fatalf("second early receipt: %+v", m2)
	}
	// Another operator's id "ABC" is another message.
	if receipt(t, s, "mno-b", "ABC", dlr.Delivered).Disposition != store.Held {
		t.Fatal("mno-b receipt not held")
	}
	held, err := s.PendingReceipts(ctxT(t))
	if err != nil || held != 3 {
		t.Fatalf("held %d, %v", held, err)
	}

	res := accept(t, s, "mno-a", "m1", 1, "ABC")
	if !res.Applied || len(res.Receipts) != 2 {
		t.Fatalf("outcome: %+v", res)
	}
	r0, r1 := res.Receipts[0], res.Receipts[1]
	if r0.ID != m.HeldID || r0.Matched.Disposition != store.Applied || r0.Matched.State != dlr.Enroute ||
		r0.Receipt.Raw != "id:raw-ABC stat:ENROUTE" || r0.Receipt.RawID != "raw-ABC" || r0.Matched.MessageID != "m1" {
		t.Errorf("first held receipt: %+v", r0)
	}
	if r1.ID != m2.HeldID || r1.Matched.Disposition != store.Applied || r1.Matched.State != dlr.Delivered ||
		r1.Matched.PartsWithReceipt != 1 || r1.Matched.PartsFinal != 1 || r1.Matched.PartCount != 1 {
		t.Errorf("second held receipt: %+v", r1)
	}
	c := connect(t, dsn)
	var (
		state   string
		count   int
		pending int
	)
	ok(t, c.QueryRow(ctxT(t), `SELECT receipt_state, receipt_count FROM smpp.message_correlations
		WHERE operator_id = 'mno-a' AND smsc_key = 'ABC'`).Scan(&state, &count))
	ok(t, c.QueryRow(ctxT(t), `SELECT count(*) FROM smpp.pending_receipts`).Scan(&pending))
	if state != "DELIVERED" || count != 2 || pending != 1 {
		t.Errorf("row %s/%d, %d held (want DELIVERED/2, 1 for mno-b)", state, count, pending)
	}
	if st := s.Stats(); st.Held != 3 || st.Released != 2 {
		t.Errorf("stats %+v", st)
	}
	// The same accepted outcome again is a no-op and matches nothing more.
	if res := accept(t, s, "mno-a", "m1", 1, "ABC"); res.Applied || len(res.Receipts) != 0 || res.State.SMSCKey != "ABC" {
		t.Errorf("repeated outcome: %+v", res)
	}
}

func TestReceiptAndResponseRacingFromTwoReplicasAlwaysMatch(t *testing.T) {
	// Two stores on one database stand for two connector replicas: the
	// response is stored by one while the receipt arrives at the other.
	s1, dsn := open(t, store.Options{Linger: time.Millisecond})
	s2 := must[*store.Store](t)(store.Open(ctxT(t), dsn, store.Options{Linger: time.Millisecond}))
	t.Cleanup(s2.Close)
	const n = 300
	prepareMany(t, s1, "mno-a", "m", n)
	var (
		wg              sync.WaitGroup
		mu              sync.Mutex
		direct, viaResp int
	)
	start := make(chan struct{})
	for i := range n {
		key := fmt.Sprintf("k%d", i)
		wg.Go(func() {
			<-start
			if i%2 == 0 {
				time.Sleep(time.Duration(i%7) * time.Millisecond)
			}
			res := accept(t, s1, "mno-a", fmt.Sprintf("m%d", i), 1, key)
			mu.Lock()
			viaResp += len(res.Receipts)
			mu.Unlock()
		})
		wg.Go(func() {
			<-start
			if i%2 == 1 {
				time.Sleep(time.Duration(i%7) * time.Millisecond)
			}
			if receipt(t, s2, "mno-a", key, dlr.Delivered).Disposition == store.Applied {
				mu.Lock()
				direct++
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	var delivered, pending int
	c := connect(t, dsn)
	ok(t, c.QueryRow(ctxT(t), `SELECT count(*) FROM smpp.message_correlations WHERE receipt_state = 'DELIVERED'`).Scan(&delivered))
	ok(t, c.QueryRow(ctxT(t), `SELECT count(*) FROM smpp.pending_receipts`).Scan(&pending))
	if delivered != n || pending != 0 || direct+viaResp != n {
		t.Fatalf("delivered %d, held %d, matched directly %d + through the response %d; want %d, 0, %d", delivered, pending, direct, viaResp, n, n)
	}
	t.Logf("%d receipts matched directly, %d held and matched by the response", direct, viaResp)
}

func TestDuplicateReceiptIsReportedNotCounted(t *testing.T) {
	s, dsn := open(t, store.Options{})
	prepare(t, s, "mno-a", "m1", 2)
	accept(t, s, "mno-a", "m1", 1, "K1")
	accept(t, s, "mno-a", "m1", 2, "K2")
	first := receipt(t, s, "mno-a", "K1", dlr.Delivered)
	if first.Disposition != store.Applied || first.PartsWithReceipt != 1 || first.PartsFinal != 1 ||
		first.Part != 1 || first.PartCount != 2 || first.MessageID != "m1" || first.SubmittedAt.IsZero() {
		t.Fatalf("first receipt: %+v", first)
	}
	for _, status := range []dlr.Status{dlr.Delivered, dlr.Undeliverable} {
		dup := receipt(t, s, "mno-a", "K1", status)
		if dup.Disposition != store.Duplicate || dup.PartsWithReceipt != 1 || dup.State != dlr.Delivered {
			t.Errorf("second final receipt %s: %+v", status, dup)
		}
	}
	last := receipt(t, s, "mno-a", "K2", dlr.Delivered)
	if last.Disposition != store.Applied || last.PartsWithReceipt != 2 || last.PartsFinal != 2 || last.Part != 2 {
		t.Errorf("second part's receipt: %+v", last)
	}
	var count int
	ok(t, connect(t, dsn).QueryRow(ctxT(t), `SELECT receipt_count FROM smpp.message_correlations WHERE smsc_key = 'K1'`).Scan(&count))
	if count != 3 {
		t.Errorf("receipt_count %d, want 3 (every receipt seen)", count)
	}
}

func TestFinalReceiptOverridesIntermediateNotViceVersa(t *testing.T) {
	s, dsn := open(t, store.Options{})
	prepare(t, s, "mno-a", "m1", 1)
	accept(t, s, "mno-a", "m1", 1, "K")
	steps := []struct {
		status dlr.Status
		want   store.Disposition
		state  dlr.Status
	}{
		{dlr.Accepted, store.Applied, dlr.Accepted},
		{dlr.Accepted, store.Duplicate, dlr.Accepted},
		{dlr.Enroute, store.Applied, dlr.Enroute},
		{dlr.Undeliverable, store.Applied, dlr.Undeliverable},
		{dlr.Enroute, store.Stale, dlr.Undeliverable},
		{dlr.Delivered, store.Duplicate, dlr.Undeliverable},
	}
	for i, st := range steps {
		m := receipt(t, s, "mno-a", "K", st.status)
		if m.Disposition != st.want || m.State != st.state {
			t.Errorf("step %d %s: %s/%s, want %s/%s", i, st.status, m.Disposition, m.State, st.want, st.state)
		}
		if final := store.FinalReceiptStatus(st.state); (m.PartsFinal == 1) != final || m.PartsWithReceipt != 1 {
			t.Errorf("step %d counts: %+v", i, m)
		}
	}
	var state, stat string
	ok(t, connect(t, dsn).QueryRow(ctxT(t), `SELECT receipt_state, receipt_stat FROM smpp.message_correlations`).Scan(&state, &stat))
	if state != "UNDELIVERABLE" || stat != "UNDELIV" {
		t.Errorf("stored %s %s", state, stat)
	}
}

// Two handlers append a part's receipts side by side, so the second one
// the SMSC sent can be applied first: the first one, applied after it, is
// older news (Stale: no event, the state stays), counted all the same. The
// first final receipt stands, UNKNOWN too: one final event per part.
func TestOlderIntermediateReceiptAppliedLaterIsStale(t *testing.T) {
	s, dsn := open(t, store.Options{})
	prepare(t, s, "mno-a", "m1", 1)
	accept(t, s, "mno-a", "m1", 1, "K")
	sent := time.Now()
	at := func(status dlr.Status, received time.Time) store.Matched {
		t.Helper()
		return must[store.Matched](t)(s.MatchReceipt(ctxT(t), store.Receipt{
			OperatorID: "mno-a", SMSCKey: "K", Status: status, Stat: string(status)[:7], Received: received,
		}))
	}
	steps := []struct {
		status   dlr.Status
		received time.Time
		want     store.Disposition
		state    dlr.Status
	}{
		{dlr.Accepted, sent.Add(2 * time.Millisecond), store.Applied, dlr.Accepted},
		{dlr.Enroute, sent.Add(1 * time.Millisecond), store.Stale, dlr.Accepted},
		{dlr.Unknown, sent.Add(4 * time.Millisecond), store.Applied, dlr.Unknown},
		{dlr.Delivered, sent.Add(3 * time.Millisecond), store.Duplicate, dlr.Unknown},
		{dlr.Delivered, sent.Add(5 * time.Millisecond), store.Duplicate, dlr.Unknown},
	}
	for i, st := range steps {
		if m := at(st.status, st.received); m.Disposition != st.want || m.State != st.state {
			t.Errorf("step %d %s: %s/%s, want %s/%s", i, st.status, m.Disposition, m.State, st.want, st.state)
		}
	}
	var (
		state string
		count int
	)
	ok(t, connect(t, dsn).QueryRow(ctxT(t), `SELECT receipt_state, receipt_count FROM smpp.message_correlations`).Scan(&state, &count))
	if state != "UNKNOWN" || count != len(steps) {
		t.Errorf("stored %s after %d receipts, want UNKNOWN after %d", state, count, len(steps))
	}
}

func TestUnknownOutcomeThenLateResponse(t *testing.T) {
	s, _ := open(t, store.Options{})
	prepare(t, s, "mno-a", "m1", 1)
	prepare(t, s, "mno-a", "m2", 1)
	ctx := ctxT(t)
	rec := func(o store.Outcome) store.OutcomeResult {
		t.Helper()
		o.OperatorID = "mno-a"
		o.Part = 1
		return must[store.OutcomeResult](t)(s.RecordOutcome(ctx, o))
	}
	if r := rec(store.Outcome{MessageID: "m1", Kind: store.Unknown, SequenceNumber: 7}); !r.Applied || r.State.Status != store.Unknown || r.State.SequenceNumber != 7 {
		t.Fatalf("unknown: %+v", r)
	}
	// The late response arrives (and a receipt right after it).
	if r := rec(store.Outcome{MessageID: "m1", Kind: store.Accepted, SMSCKey: "K"}); !r.Applied || r.State.Status != store.Accepted || r.State.SMSCKey != "K" || r.State.SequenceNumber != 7 {
		t.Fatalf("late accepted: %+v", r)
	}
	if m := receipt(t, s, "mno-a", "K", dlr.Delivered); m.Disposition != store.Applied || m.MessageID != "m1" {
		t.Fatalf("receipt: %+v", m)
	}
	// Nothing replaces accepted: not a timeout firing late, not a rejection.
	for _, o := range []store.Outcome{{MessageID: "m1", Kind: store.Unknown}, {MessageID: "m1", Kind: store.Rejected, CommandStatus: 8}} {
		if r := rec(o); r.Applied || r.State.Status != store.Accepted || r.State.ReceiptState != dlr.Delivered {
			t.Errorf("%s after accepted: %+v", o.Kind, r)
		}
	}
	// A late rejection replaces unknown; a timeout does not replace it.
	rec(store.Outcome{MessageID: "m2", Kind: store.Unknown})
	if r := rec(store.Outcome{MessageID: "m2", Kind: store.Rejected, CommandStatus: 0x58}); !r.Applied || r.State.Status != store.Rejected || r.State.CommandStatus != 0x58 {
		t.Errorf("late rejected: %+v", r)
	}
	if r := rec(store.Outcome{MessageID: "m2", Kind: store.Unknown}); r.Applied || r.State.Status != store.Rejected {
		t.Errorf("unknown after rejected: %+v", r)
	}
	// A retry that is accepted replaces the rejection.
	if r := rec(store.Outcome{MessageID: "m2", Kind: store.Accepted, SMSCKey: "K2", CommandStatus: 0}); !r.Applied || r.State.Status != store.Accepted || r.State.CommandStatus != 0 {
		t.Errorf("accepted after rejected: %+v", r)
	}
}

func TestPendingReceiptsExpire(t *testing.T) {
	s, dsn := open(t, store.Options{})
	a := receipt(t, s, "mno-a", "lost-1", dlr.Delivered)
	b := receipt(t, s, "mno-a", "lost-2", dlr.Expired)
	if a.Disposition != store.Held || b.Disposition != store.Held {
		t.Fatal("not held")
	}
	if got := must[[]store.HeldReceipt](t)(s.ExpirePendingReceipts(ctxT(t), time.Hour)); len(got) != 0 {
		t.Fatalf("expired too early: %+v", got)
	}
	// Age them in the table rather than sleeping past a short expiry: the
	// hour-long check above then cannot pass merely because the machine was
	// slow, and this one does not depend on how long anything took.
	ok(t, second(connect(t, dsn).Exec(ctxT(t), `UPDATE smpp.pending_receipts SET created_at = now() - interval '2 hours'`)))
	got := must[[]store.HeldReceipt](t)(s.ExpirePendingReceipts(ctxT(t), time.Hour))
	ids := []int64{}
	for _, h := range got {
		ids = append(ids, h.ID)
		if h.Receipt.OperatorID != "mno-a" || h.Receipt.RawID == "" || h.HeldAt.IsZero() || h.Receipt.Raw == "" {
			t.Errorf("expired receipt %+v", h)
		}
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []int64{a.HeldID, b.HeldID}) {
		t.Fatalf("expired %v, want %v", ids, []int64{a.HeldID, b.HeldID})
	}
	if n := must[int64](t)(s.PendingReceipts(ctxT(t))); n != 0 {
		t.Fatalf("%d still held", n)
	}
	// The response arriving after expiry finds nothing held.
	prepare(t, s, "mno-a", "m1", 1)
	if r := accept(t, s, "mno-a", "m1", 1, "lost-1"); len(r.Receipts) != 0 {
		t.Fatalf("expired receipt applied: %+v", r)
	}
}

func TestPurgeDeletesOldFinishedRowsInBatches(t *testing.T) {
	s, dsn := open(t, store.Options{})
	for i := range 10 {
		msg := fmt.Sprintf("m%d", i)
		prepare(t, s, "mno-a", msg, 1)
		if i < 8 { // m8 and m9 stay pending
			accept(t, s, "mno-a", msg, 1, fmt.Sprint(i))
		}
	}
	c := connect(t, dsn)
	// m0..m6 and m8 are old; m7 is recent.
	ok(t, second(c.Exec(ctxT(t), `UPDATE smpp.message_correlations SET created_at = now() - interval '40 days'
		WHERE message_id <> 'm7' AND message_id <> 'm9'`)))
	n, err := s.Purge(ctxT(t), 30*24*time.Hour, 3)
	if err != nil || n != 7 {
		t.Fatalf("purged %d, %v; want 7", n, err)
	}
	rows, _ := c.Query(ctxT(t), `SELECT message_id FROM smpp.message_correlations ORDER BY message_id`)
	left := must[[]string](t)(pgx.CollectRows(rows, pgx.RowTo[string]))
	if !slices.Equal(left, []string{"m7", "m8", "m9"}) {
		t.Fatalf("left %v", left)
	}
	if n, err := s.Purge(ctxT(t), 30*24*time.Hour, 3); err != nil || n != 0 {
		t.Fatalf("second purge %d, %v", n, err)
	}
}
