package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/store"
)

// unmatchedRow is a row of smpp.unmatched_receipts as the tests read it.
type unmatchedRow struct {
	reason, detail, key, rawID, state string
	raw                               []byte
	received                          time.Time
	notBefore, horizon                *time.Time
	holdFor                           *float64
	matchedMsg                        string
}

func unmatchedRows(t testing.TB, dsn, where string) []unmatchedRow {
	t.Helper()
	rows, err := connect(t, dsn).Query(ctxT(t), `SELECT reason, coalesce(detail, ''), coalesce(smsc_key, ''),
		coalesce(smsc_message_id, ''), coalesce(receipt_state, ''), raw, received_at, not_before, horizon,
		extract(epoch FROM hold_for)::float8, coalesce(matched_message_id, '')
		FROM smpp.unmatched_receipts WHERE `+where+` ORDER BY id`)
	ok(t, err)
	defer rows.Close()
	var out []unmatchedRow
	for rows.Next() {
		var r unmatchedRow
		ok(t, rows.Scan(&r.reason, &r.detail, &r.key, &r.rawID, &r.state, &r.raw, &r.received, &r.notBefore,
			&r.horizon, &r.holdFor, &r.matchedMsg))
		out = append(out, r)
	}
	ok(t, rows.Err())
	return out
}

// A receipt that cannot be parsed is committed with the PDU as received
// (raw bytes, TLVs, esm_class, data_coding) before RecordUnmatched returns;
// one the store refuses is kept with what was read of it, cut to fit.
func TestAReceiptThatCannotBeReadIsRecorded(t *testing.T) {
	s, dsn := open(t, store.Options{})
	received := time.Now().Add(-time.Second).Truncate(time.Microsecond)
	raw := "id: stat:??? \xff\x00 garbage"
	ok(t, s.RecordUnmatched(ctxT(t), store.UnmatchedReceipt{Reason: store.Unparseable, Detail: "no id",
		Receipt: store.Receipt{OperatorID: "mno-a", Raw: raw, Received: received},
		PDU:     store.DataSM, EsmClass: 0x04, DataCoding: 8, TLVs: map[uint16][]byte{0x001e: []byte("AB"), 0x0427: {2}}}))
	got := unmatchedRows(t, dsn, "true")
	if len(got) != 1 || got[0].reason != "unparseable" || got[0].detail != "no id" || string(got[0].raw) != raw ||
		!got[0].received.Equal(received) || got[0].key != "" || got[0].state != "" {
		t.Fatalf("recorded %+v", got)
	}
	var pdu, tlvs string
	var esm, dc int
	ok(t, connect(t, dsn).QueryRow(ctxT(t), `SELECT pdu, esm_class, data_coding, tlvs::text FROM smpp.unmatched_receipts`).
		Scan(&pdu, &esm, &dc, &tlvs))
	if pdu != "data_sm" || esm != 4 || dc != 8 || tlvs != `{"0x001e": "4142", "0x0427": "02"}` {
		t.Fatalf("pdu %s esm_class %d data_coding %d tlvs %s", pdu, esm, dc, tlvs)
	}

	// Refused by AppendReceipt (an id longer than an index key): kept as
	// read, the id cut, the text whole.
	long := strings.Repeat("9", 400)
	rc := store.Receipt{OperatorID: "mno-a", SMSCKey: long, RawID: long, Status: dlr.Delivered, Stat: "DELIVRD",
		Raw: "id:" + long + " stat:DELIVRD", NotBefore: received, Horizon: received.Add(-time.Hour)}
	err := s.AppendReceipt(ctxT(t), rc)
	if !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("append: %v", err)
	}
	ok(t, s.RecordUnmatched(ctxT(t), store.UnmatchedReceipt{Reason: store.InvalidReceipt, Detail: err.Error(), Receipt: rc,
		PDU: store.DeliverSM, EsmClass: 0x04}))
	got = unmatchedRows(t, dsn, "reason = 'invalid'")
	if len(got) != 1 || len(got[0].key) != store.MaxIDLength || got[0].state != "DELIVERED" || string(got[0].raw) != rc.Raw ||
		!strings.Contains(got[0].detail, "SMSC key") || got[0].notBefore == nil {
		t.Fatalf("recorded %+v", got)
	}

	for name, u := range map[string]store.UnmatchedReceipt{
		"no operator":    {Reason: store.Unparseable},
		"unknown reason": {Reason: "lost", Receipt: store.Receipt{OperatorID: "mno-a"}},
		"unknown PDU":    {Reason: store.Unparseable, PDU: "submit_sm", Receipt: store.Receipt{OperatorID: "mno-a"}},
	} {
		if err := s.RecordUnmatched(ctxT(t), u); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

// A receipt held by its id epoch whose candidate is beyond the horizon is
// not swept; it is given up only once both the expiry and its hold have
// passed, and then it is in smpp.unmatched_receipts (reason no_part, with
// its bounds and text), moved by the statement that removed it from the
// held receipts. A receipt held without bounds goes the same way.
func TestAHeldReceiptGivenUpIsKeptAsUnmatched(t *testing.T) {
	s, dsn := open(t, store.Options{})
	now := time.Now()
	prepare(t, s, "mno-a", "m-ancient", 1)
	acceptAt(t, s, "mno-a", "m-ancient", "43", now.Add(-80*time.Hour))
	outbox(t, s)
	if m := epochReceipt(t, s, "mno-a", "43", dlr.Delivered, now.Add(-time.Minute), 72*time.Hour); m.Disposition != store.Held {
		t.Fatalf("receipt: %+v", m)
	}
	if m := receipt(t, s, "mno-a", "lost", dlr.Expired); m.Disposition != store.Held {
		t.Fatalf("receipt: %+v", m)
	}
	c := connect(t, dsn)
	// Held two hours ago; the epoch-bound one's hold has not passed (the
	// table aged: its hold_for is then not the receipt's, only kept).
	ok(t, second(c.Exec(ctxT(t), `UPDATE smpp.pending_receipts SET created_at = now() - interval '2 hours'`)))
	ok(t, second(c.Exec(ctxT(t), `UPDATE smpp.pending_receipts SET hold_until = now() + interval '1 hour'
		WHERE hold_until IS NOT NULL`)))
	got := must[[]store.HeldReceipt](t)(s.ExpirePendingReceipts(ctxT(t), time.Hour))
	if len(got) != 1 || got[0].Receipt.SMSCKey != "lost" {
		t.Fatalf("expired %+v, want only the receipt without a hold", got)
	}
	if n := must[int64](t)(s.PendingReceipts(ctxT(t))); n != 1 {
		t.Fatalf("%d held, want the one within its hold", n)
	}
	// Its hold passes: the sweep finds no part within its horizon, the
	// expiry gives it up.
	ok(t, second(c.Exec(ctxT(t), `UPDATE smpp.pending_receipts SET hold_until = now() - interval '1 second'`)))
	if swept := must[[]store.HeldReceipt](t)(s.SweepHeldReceipts(ctxT(t))); len(swept) != 0 {
		t.Fatalf("swept %+v", swept)
	}
	got = must[[]store.HeldReceipt](t)(s.ExpirePendingReceipts(ctxT(t), time.Hour))
	if len(got) != 1 || got[0].Receipt.SMSCKey != "43" {
		t.Fatalf("expired %+v, want the receipt for 43", got)
	}
	if n := must[int64](t)(s.PendingReceipts(ctxT(t))); n != 0 {
		t.Fatalf("%d still held", n)
	}
	rows := unmatchedRows(t, dsn, "true")
	if len(rows) != 2 {
		t.Fatalf("unmatched rows %+v", rows)
	}
	lost, old := rows[0], rows[1]
	if lost.reason != "no_part" || lost.key != "lost" || lost.rawID != "raw-lost" || lost.state != "EXPIRED" ||
		string(lost.raw) != "id:raw-lost stat:EXPIRED" || lost.notBefore != nil || lost.holdFor != nil {
		t.Errorf("unbound receipt kept as %+v", lost)
	}
	if old.reason != "no_part" || old.key != "43" || string(old.raw) != "id:raw-43" || old.notBefore == nil ||
		old.horizon == nil || old.holdFor == nil || !strings.Contains(old.detail, "horizon") {
		t.Errorf("epoch-bound receipt kept as %+v", old)
	}
	wantEvents(t, s)
}

// Purge deletes the unmatched receipts received before the retention, in
// batches, and keeps the others.
func TestPurgeDeletesOldUnmatchedReceipts(t *testing.T) {
	s, dsn := open(t, store.Options{})
	for i := range 6 {
		received := time.Now()
		if i < 5 {
			received = received.Add(-40 * 24 * time.Hour)
		}
		ok(t, s.RecordUnmatched(ctxT(t), store.UnmatchedReceipt{Reason: store.Unparseable,
			Receipt: store.Receipt{OperatorID: "mno-a", Raw: "x", Received: received}}))
	}
	n, err := s.Purge(ctxT(t), 30*24*time.Hour, 2)
	if err != nil || n != 5 {
		t.Fatalf("purged %d, %v; want 5", n, err)
	}
	if left := unmatchedRows(t, dsn, "true"); len(left) != 1 || left[0].received.Before(time.Now().Add(-time.Hour)) {
		t.Fatalf("left %+v", left)
	}
}

// A connector of the version before migration 00010, still running during
// a rolling deploy, sets inbox rows aside in place (failed): Purge moves
// them to the unmatched receipts, recent ones included, rather than
// deleting them unseen.
func TestPurgeMovesReceiptsAnOlderConnectorSetAside(t *testing.T) {
	s, dsn := open(t, store.Options{})
	ok(t, s.AppendReceipt(ctxT(t), inboxReceipt("mno-a", "k-old", dlr.Delivered)))
	c := connect(t, dsn)
	ok(t, second(c.Exec(ctxT(t), `UPDATE smpp.receipt_inbox SET failed = 'value too long'`)))
	if _, err := s.Purge(ctxT(t), 30*24*time.Hour, 10); err != nil {
		t.Fatal(err)
	}
	got := unmatchedRows(t, dsn, "true")
	if len(got) != 1 || got[0].reason != "failed" || got[0].detail != "value too long" || got[0].key != "k-old" {
		t.Fatalf("unmatched %+v", got)
	}
	var left int
	ok(t, c.QueryRow(ctxT(t), `SELECT count(*) FROM smpp.receipt_inbox`).Scan(&left))
	if left != 0 {
		t.Fatalf("%d rows left in the inbox", left)
	}
}

// A receipt given up because no part had its key is re-matched once its
// part appears (the submit_sm_resp stored after the receipt was given up):
// moved back to the inbox and applied by the drain, with its event. A part
// submitted after the receipt came (the SMSC gave the id again) never takes
// it.
func TestAGivenUpReceiptIsRematchedToItsPartOnly(t *testing.T) {
	s, dsn := open(t, store.Options{})
	prepare(t, s, "mno-a", "m-right", 1)
	prepare(t, s, "mno-a", "m-new", 1)
	received := time.Now()
	for _, key := range []string{"k1", "k2"} {
		rc := inboxReceipt("mno-a", key, dlr.Delivered)
		rc.Received = received
		ok(t, s.AppendReceipt(ctxT(t), rc))
	}
	if got := drainAll(t, s); len(got) != 2 || got[0].Matched.Disposition != store.Held || got[1].Matched.Disposition != store.Held {
		t.Fatalf("drained %+v, want both held", got)
	}
	c := connect(t, dsn)
	ok(t, second(c.Exec(ctxT(t), `UPDATE smpp.pending_receipts SET created_at = now() - interval '2 hours'`)))
	if got := must[[]store.HeldReceipt](t)(s.ExpirePendingReceipts(ctxT(t), time.Hour)); len(got) != 2 {
		t.Fatalf("expired %+v", got)
	}
	if n := must[int64](t)(s.RematchUnmatched(ctxT(t), "mno-a", 100)); n != 0 {
		t.Fatalf("re-matched %d with no part holding the keys", n)
	}
	// m-right was submitted before the receipt came, its response stored
	// only now; m-new was submitted after the receipt came and got k2.
	for msg, o := range map[string]struct {
		key  string
		sent time.Time
	}{"m-right": {"k1", received.Add(-5 * time.Second)}, "m-new": {"k2", received.Add(time.Second)}} {
		res := must[store.OutcomeResult](t)(s.RecordOutcome(ctxT(t), store.Outcome{OperatorID: "mno-a", MessageID: msg, Part: 1,
			Kind: store.Accepted, SMSCMessageID: "raw-" + o.key, SMSCKey: o.key, SubmittedAt: o.sent, At: o.sent.Add(time.Second)}))
		if len(res.Receipts) != 0 {
			t.Fatalf("%s released %+v", msg, res.Receipts)
		}
	}
	outbox(t, s)
	select { // the cue of the appends above
	case <-s.Inboxed():
	default:
	}
	if n := must[int64](t)(s.RematchUnmatched(ctxT(t), "mno-a", 100)); n != 1 {
		t.Fatalf("re-matched %d, want 1", n)
	}
	select {
	case <-s.Inboxed():
	default:
		t.Fatal("no drain cue after a re-match")
	}
	got := drainAll(t, s)
	if len(got) != 1 || got[0].Matched.Disposition != store.Applied || got[0].Matched.MessageID != "m-right" ||
		!got[0].Receipt.Received.Equal(received.Truncate(time.Microsecond)) {
		t.Fatalf("drained %+v, want the receipt for k1 applied to m-right", got)
	}
	wantEvents(t, s, "receipt m-right 1 DELIVERED")
	if st, _ := receiptState(t, dsn, "m-new"); st != "" {
		t.Fatalf("m-new has receipt state %s", st)
	}
	rows := unmatchedRows(t, dsn, "true")
	if len(rows) != 2 || rows[0].key != "k1" || rows[0].matchedMsg != "m-right" || rows[1].key != "k2" || rows[1].matchedMsg != "" {
		t.Fatalf("unmatched rows %+v", rows)
	}
	// Matched rows are not taken again; the other stays for inspection.
	if n := must[int64](t)(s.RematchUnmatched(ctxT(t), "mno-a", 100)); n != 0 {
		t.Fatalf("re-matched %d more", n)
	}
}

// A re-matched receipt waits in the inbox for a moment, as any receipt:
// meanwhile an SMSC that restarted may give its id to a new message. A
// receipt held without bounds goes back with the widest ones, so the drain
// does not give it to the new part (submitted after the receipt came) but
// holds it with its own part as candidate, and the sweep applies it there.
func TestARematchedReceiptIsNotGivenToAPartThatTookItsIDMeanwhile(t *testing.T) {
	s, dsn := open(t, store.Options{})
	prepare(t, s, "mno-a", "m-old", 1)
	prepare(t, s, "mno-a", "m-new", 1)
	received := time.Now()
	rc := inboxReceipt("mno-a", "k1", dlr.Delivered)
	rc.Received = received
	ok(t, s.AppendReceipt(ctxT(t), rc))
	drainAll(t, s)
	c := connect(t, dsn)
	ok(t, second(c.Exec(ctxT(t), `UPDATE smpp.pending_receipts SET created_at = now() - interval '2 hours'`)))
	if got := must[[]store.HeldReceipt](t)(s.ExpirePendingReceipts(ctxT(t), time.Hour)); len(got) != 1 {
		t.Fatalf("expired %+v", got)
	}
	outcome := func(msg string, sent time.Time) {
		must[store.OutcomeResult](t)(s.RecordOutcome(ctxT(t), store.Outcome{OperatorID: "mno-a", MessageID: msg, Part: 1,
			Kind: store.Accepted, SMSCMessageID: "raw-k1", SMSCKey: "k1", SubmittedAt: sent, At: sent.Add(time.Second)}))
	}
	outcome("m-old", received.Add(-5*time.Second))
	if n := must[int64](t)(s.RematchUnmatched(ctxT(t), "mno-a", 100)); n != 1 {
		t.Fatalf("re-matched %d, want 1", n)
	}
	outcome("m-new", received.Add(time.Second)) // takes k1 from m-old before the drain
	wantEvents(t, s, "outcome m-old 1 accepted", "outcome m-new 1 accepted")

	got := drainAll(t, s)
	if len(got) != 1 || got[0].Matched.Disposition != store.Held {
		t.Fatalf("drained %+v, want the receipt held", got)
	}
	ok(t, second(c.Exec(ctxT(t), `UPDATE smpp.pending_receipts SET hold_until = now() - interval '1 second'`)))
	swept := must[[]store.HeldReceipt](t)(s.SweepHeldReceipts(ctxT(t)))
	if len(swept) != 1 || swept[0].Matched.MessageID != "m-old" || swept[0].Matched.Disposition != store.Applied {
		t.Fatalf("swept %+v, want the receipt applied to m-old", swept)
	}
	wantEvents(t, s, "receipt m-old 1 DELIVERED")
	if st, _ := receiptState(t, dsn, "m-new"); st != "" {
		t.Fatalf("m-new has receipt state %s", st)
	}
}
