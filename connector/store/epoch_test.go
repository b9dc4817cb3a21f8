package store_test

import (
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/store"
)

// acceptAt stores an accepted outcome answered at `at`, submitted 5 s
// before (so before a receipt the test received just now).
func acceptAt(t testing.TB, s *store.Store, op, msg, key string, at time.Time) store.OutcomeResult {
	t.Helper()
	return must[store.OutcomeResult](t)(s.RecordOutcome(ctxT(t), store.Outcome{
		OperatorID: op, MessageID: msg, Part: 1, Kind: store.Accepted, SMSCMessageID: "raw-" + key, SMSCKey: key,
		SubmittedAt: at.Add(-5 * time.Second), At: at,
	}))
}

// epochReceipt is a receipt received now under an id epoch that began at
// epoch, with a receipt horizon of horizon.
func epochReceipt(t testing.TB, s *store.Store, op, key string, status dlr.Status, epoch time.Time, horizon time.Duration) store.Matched {
	t.Helper()
	now := time.Now()
	notBefore := now.Add(-horizon)
	if epoch.After(notBefore) {
		notBefore = epoch
	}
	return must[store.Matched](t)(s.MatchReceipt(ctxT(t), store.Receipt{
		OperatorID: op, SMSCKey: key, RawID: "raw-" + key, Status: status, Stat: "DELIVRD", Received: now,
		Raw: "id:raw-" + key, NotBefore: notBefore, Horizon: now.Add(-horizon), HoldFor: time.Minute,
	}))
}

// receiptState is a part's receipt state and count as stored.
func receiptState(t testing.TB, dsn, msg string) (string, int) {
	t.Helper()
	var (
		state *string
		count int
	)
	ok(t, connect(t, dsn).QueryRow(ctxT(t), `SELECT receipt_state, receipt_count FROM smpp.message_correlations
		WHERE message_id = $1 AND part_number = 1`, msg).Scan(&state, &count))
	if state == nil {
		return "", count
	}
	return *state, count
}

// The measured bug: the SMSC restarted and reused its ids; a receipt for
// the new message came before its submit_sm_resp and was attributed to the
// message of 76 minutes earlier that still held the id. A receipt is never
// attributed to a part answered before the epoch: it is held, and the new
// part's accepted outcome releases it onto the new part, with the event of
// the new message only.
func TestReceiptAfterAnSMSCRestartWaitsForItsOwnResponse(t *testing.T) {
	s, dsn := open(t, store.Options{})
	now := time.Now()
	prepare(t, s, "mno-a", "m-old", 1)
	acceptAt(t, s, "mno-a", "m-old", "1", now.Add(-76*time.Minute))
	wantEvents(t, s, "outcome m-old 1 accepted")

	// The binds went down and came back a minute ago; the SMSC counts from 1 again.
	epoch := now.Add(-time.Minute)
	prepare(t, s, "mno-a", "m-new", 1)
	m := epochReceipt(t, s, "mno-a", "1", dlr.Delivered, epoch, 72*time.Hour)
	if m.Disposition != store.Held || m.MessageID != "" {
		t.Fatalf("receipt for a reused id before its response: %+v, want held", m)
	}
	if st, n := receiptState(t, dsn, "m-old"); st != "" || n != 0 {
		t.Fatalf("old part got the receipt: %s/%d", st, n)
	}
	wantEvents(t, s) // held: no event

	res := acceptAt(t, s, "mno-a", "m-new", "1", time.Now())
	if !res.Applied || len(res.Receipts) != 1 {
		t.Fatalf("new part's outcome released %d receipts: %+v", len(res.Receipts), res)
	}
	if r := res.Receipts[0]; r.ID != m.HeldID || r.Matched.Disposition != store.Applied || r.Matched.MessageID != "m-new" {
		t.Fatalf("released receipt: %+v", r)
	}
	wantEvents(t, s, "outcome m-new 1 accepted", "receipt m-new 1 DELIVERED")
	if st, n := receiptState(t, dsn, "m-new"); st != "DELIVERED" || n != 1 {
		t.Fatalf("new part: %s/%d", st, n)
	}
	if st, n := receiptState(t, dsn, "m-old"); st != "" || n != 0 {
		t.Fatalf("old part: %s/%d", st, n)
	}

	// Once the new part holds the key, its receipts match it directly.
	if m := epochReceipt(t, s, "mno-a", "1", dlr.Delivered, epoch, 72*time.Hour); m.Disposition != store.Duplicate || m.MessageID != "m-new" {
		t.Fatalf("second copy: %+v", m)
	}
	if n := must[int64](t)(s.PendingReceipts(ctxT(t))); n != 0 {
		t.Fatalf("%d still held", n)
	}
}

// A part answered before the receipt horizon is not matched even within
// the epoch (an id reused after the SMSC's counter wrapped, with no
// restart seen).
func TestReceiptIsNotAttributedBeyondTheHorizon(t *testing.T) {
	s, dsn := open(t, store.Options{})
	prepare(t, s, "mno-a", "m-old", 1)
	acceptAt(t, s, "mno-a", "m-old", "7", time.Now().Add(-2*time.Hour))
	m := epochReceipt(t, s, "mno-a", "7", dlr.Delivered, time.Now().Add(-10*time.Hour), time.Hour)
	if m.Disposition != store.Held {
		t.Fatalf("receipt for a part beyond the horizon: %+v", m)
	}
	if st, _ := receiptState(t, dsn, "m-old"); st != "" {
		t.Fatalf("old part got the receipt: %s", st)
	}
}

// A late outcome for a part answered before the epoch (a retried write)
// does not release a receipt held under the new epoch onto it.
func TestOldPartTakingTheKeyLateDoesNotReleaseTheReceipt(t *testing.T) {
	s, _ := open(t, store.Options{})
	prepare(t, s, "mno-a", "m-old", 1)
	epochReceipt(t, s, "mno-a", "3", dlr.Delivered, time.Now().Add(-time.Minute), 72*time.Hour)
	if res := acceptAt(t, s, "mno-a", "m-old", "3", time.Now().Add(-time.Hour)); len(res.Receipts) != 0 {
		t.Fatalf("old part took a receipt held after its epoch: %+v", res.Receipts)
	}
	prepare(t, s, "mno-a", "m-new", 1)
	if res := acceptAt(t, s, "mno-a", "m-new", "3", time.Now()); len(res.Receipts) != 1 || res.Receipts[0].Matched.MessageID != "m-new" {
		t.Fatalf("new part's outcome: %+v", res.Receipts)
	}
}

// The binds dropped for a network cut, not a restart: no new part takes
// the key, and once the hold has passed the sweep attributes the receipt to
// the part holding it (inside the horizon), with its event in the outbox.
// Beyond the horizon, or with no part holding the key, it stays held.
func TestSweepAppliesAHeldReceiptToTheOldPartAfterTheHold(t *testing.T) {
	s, dsn := open(t, store.Options{})
	now := time.Now()
	prepare(t, s, "mno-a", "m-old", 1)
	prepare(t, s, "mno-a", "m-ancient", 1)
	acceptAt(t, s, "mno-a", "m-old", "42", now.Add(-5*time.Minute))
	acceptAt(t, s, "mno-a", "m-ancient", "43", now.Add(-80*time.Hour))
	outbox(t, s)
	epoch := now.Add(-time.Minute)
	for _, key := range []string{"42", "43", "44"} {
		if m := epochReceipt(t, s, "mno-a", key, dlr.Delivered, epoch, 72*time.Hour); m.Disposition != store.Held {
			t.Fatalf("receipt %s: %+v", key, m)
		}
	}
	if got := must[[]store.HeldReceipt](t)(s.SweepHeldReceipts(ctxT(t))); len(got) != 0 {
		t.Fatalf("swept within the hold: %+v", got)
	}
	wantEvents(t, s)

	// Age the hold in the table rather than sleeping through it.
	ok(t, second(connect(t, dsn).Exec(ctxT(t), `UPDATE smpp.pending_receipts SET hold_until = now() - interval '1 second'`)))
	got := must[[]store.HeldReceipt](t)(s.SweepHeldReceipts(ctxT(t)))
	if len(got) != 1 || got[0].Matched.Disposition != store.Applied || got[0].Matched.MessageID != "m-old" ||
		got[0].Receipt.SMSCKey != "42" || got[0].Receipt.Raw != "id:raw-42" {
		t.Fatalf("swept %+v, want the receipt for 42 on m-old", got)
	}
	wantEvents(t, s, "receipt m-old 1 DELIVERED")
	if st, n := receiptState(t, dsn, "m-old"); st != "DELIVERED" || n != 1 {
		t.Fatalf("old part: %s/%d", st, n)
	}
	if st, _ := receiptState(t, dsn, "m-ancient"); st != "" {
		t.Fatalf("part beyond the horizon got a receipt: %s", st)
	}
	if n := must[int64](t)(s.PendingReceipts(ctxT(t))); n != 2 {
		t.Fatalf("%d held, want 2 (beyond the horizon, no part)", n)
	}
	// Nothing more to sweep; the rest expire as unmatched.
	if got := must[[]store.HeldReceipt](t)(s.SweepHeldReceipts(ctxT(t))); len(got) != 0 {
		t.Fatalf("swept again: %+v", got)
	}
}

// An SMSC that restarted delivers a receipt of a message sent before the
// restart, then gives that message's id to a new message: the receipt came
// before the new message was submitted, so it cannot be the new message's.
// It stays held when the new part takes the key and the sweep gives it to
// the part that held the key when it came, with that message's event.
func TestReceiptOfAMessageBeforeTheRestartIsNotGivenToTheNewHolder(t *testing.T) {
	s, dsn := open(t, store.Options{})
	prepare(t, s, "mno-a", "m-old", 1)
	acceptAt(t, s, "mno-a", "m-old", "9", time.Now().Add(-time.Minute))
	wantEvents(t, s, "outcome m-old 1 accepted")
	epoch := time.Now().Add(-10 * time.Second)
	m := must[store.Matched](t)(s.MatchReceipt(ctxT(t), store.Receipt{
		OperatorID: "mno-a", SMSCKey: "9", RawID: "raw-9", Status: dlr.Delivered, Stat: "DELIVRD", Received: time.Now(),
		NotBefore: epoch, Horizon: time.Now().Add(-72 * time.Hour), HoldFor: time.Second,
	}))
	if m.Disposition != store.Held {
		t.Fatalf("receipt for an id of the previous epoch: %+v, want held", m)
	}
	// The new message is submitted after the receipt came, and is given id 9.
	time.Sleep(10 * time.Millisecond)
	prepare(t, s, "mno-a", "m-new", 1)
	sent := time.Now()
	res := must[store.OutcomeResult](t)(s.RecordOutcome(ctxT(t), store.Outcome{OperatorID: "mno-a", MessageID: "m-new",
		Part: 1, Kind: store.Accepted, SMSCMessageID: "raw-9", SMSCKey: "9", SubmittedAt: sent, At: sent.Add(5 * time.Millisecond)}))
	if len(res.Receipts) != 0 {
		t.Fatalf("the new part took a receipt that came before its submit: %+v", res.Receipts)
	}
	wantEvents(t, s, "outcome m-new 1 accepted")
	time.Sleep(1100 * time.Millisecond) // the hold
	swept := must[[]store.HeldReceipt](t)(s.SweepHeldReceipts(ctxT(t)))
	if len(swept) != 1 || swept[0].Matched.MessageID != "m-old" || swept[0].Matched.Disposition != store.Applied {
		t.Fatalf("swept %+v, want the receipt applied to m-old", swept)
	}
	if st, _ := receiptState(t, dsn, "m-new"); st != "" {
		t.Fatalf("m-new has receipt state %s", st)
	}
	wantEvents(t, s, "receipt m-old 1 DELIVERED")
}

// An early receipt (before its submit_sm_resp) of a part whose response the
// SMSC's restart lost: no part holds its id, so it is held; the restarted
// SMSC gives the id again to a part submitted after the receipt came. That
// part's outcome does not take the receipt: it cannot precede its submit.
// (Seen in the fault matrix's smsc_restart, early receipts on.)
func TestEarlyReceiptIsNotGivenToAPartSubmittedAfterIt(t *testing.T) {
	s, dsn := open(t, store.Options{})
	epoch := time.Now().Add(-time.Minute)
	prepare(t, s, "mno-a", "m-lost", 1) // written, its response lost: no key
	m := epochReceipt(t, s, "mno-a", "1005", dlr.Delivered, epoch, 72*time.Hour)
	if m.Disposition != store.Held {
		t.Fatalf("early receipt with no part holding its id: %+v, want held", m)
	}
	received := time.Now()
	prepare(t, s, "mno-a", "m-new", 1)
	res := must[store.OutcomeResult](t)(s.RecordOutcome(ctxT(t), store.Outcome{
		OperatorID: "mno-a", MessageID: "m-new", Part: 1, Kind: store.Accepted, SMSCMessageID: "raw-1005", SMSCKey: "1005",
		SubmittedAt: received.Add(50 * time.Millisecond), At: received.Add(80 * time.Millisecond),
	}))
	if !res.Applied || len(res.Receipts) != 0 {
		t.Fatalf("the new part's outcome released %d receipts: %+v", len(res.Receipts), res)
	}
	if st, n := receiptState(t, dsn, "m-new"); st != "" || n != 0 {
		t.Fatalf("the new part got the older part's receipt: %s/%d", st, n)
	}
	if n := must[int64](t)(s.PendingReceipts(ctxT(t))); n != 1 {
		t.Fatalf("%d held, want the early receipt still held", n)
	}
	// The new part's own receipt, received after it was submitted, matches it.
	for time.Now().Before(received.Add(50 * time.Millisecond)) {
		time.Sleep(5 * time.Millisecond)
	}
	if m := epochReceipt(t, s, "mno-a", "1005", dlr.Delivered, epoch, 72*time.Hour); m.Disposition != store.Applied || m.MessageID != "m-new" {
		t.Fatalf("the new part's own receipt: %+v", m)
	}
}
