package framework

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2" //nolint:revive
	. "github.com/onsi/gomega"    //nolint:revive

	"github.com/smpp-connector/smpp-connector/internal/testutil"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
)

// SentReceipt is a receipt the simulated SMSC sent: the id it carried and
// the part the SMSC had given that id to.
type SentReceipt struct {
	SMSCID string
	Owner  PartRef
}

// Sent lists the receipts the SMSC sent for the run's accepted submits:
// receipted says which accepted submits got one (the simulator plans a
// receipt for every accepted part that asked for one, unless a receipt_drop
// fault or the profile's part rule takes it away, which only the caller,
// who set those up, knows).
func (t *ReceiptTruth) Sent(receipted func(SMSCSubmit) bool) []SentReceipt {
	var out []SentReceipt
	for id, subs := range t.byID {
		for _, s := range subs {
			if receipted(s) {
				out = append(out, SentReceipt{SMSCID: id, Owner: PartRef{MessageID: t.messageOf[s.Dest], Part: max(s.Part, 1)}})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SMSCID < out[j].SMSCID })
	return out
}

// ReceiptAccuracy is how the receipts the SMSC sent ended up in the
// correlation store.
type ReceiptAccuracy struct {
	Sent  int // receipts the SMSC sent
	Right int // sent receipts stored on the part the SMSC gave their id to
	// Misplaced are sent receipts stored on another part; Missing, sent
	// receipts stored on no part at all. Sent = Right + Misplaced + Missing.
	Misplaced int
	Missing   int
	// MatchedWrong counts the parts holding a receipt that is not theirs: one
	// the SMSC gave to another part, or one it never sent for that id.
	MatchedWrong int
	Examples     []string // a few of each kind, for the reader
}

// Percent is the share of sent receipts stored on their own part (100 when
// none were sent: nothing was misattributed).
func (a ReceiptAccuracy) Percent() float64 {
	if a.Sent == 0 {
		return 100
	}
	return float64(a.Right) * 100 / float64(a.Sent)
}

func (a ReceiptAccuracy) String() string {
	return fmt.Sprintf("%d receipts sent: %d on their part (%.2f%%), %d on another part, %d on none; %d parts hold a receipt not theirs",
		a.Sent, a.Right, a.Percent(), a.Misplaced, a.Missing, a.MatchedWrong)
}

// MeasureReceiptAccuracy judges the stored receipts (one per part that has
// one) against the receipts the SMSC sent.
//
// The store keeps, per part, the SMSC id from the part's submit_sm_resp and
// matches receipts by that id, so a part's receipt is right when the SMSC
// sent a receipt for the part's id and gave that id to this very part. A
// receipt that reached a part by another route (a resp stored on the wrong
// part, an id reused across an SMSC restart, a held receipt released to the
// wrong candidate) fails one of the two.
func MeasureReceiptAccuracy(truth *ReceiptTruth, sent []SentReceipt, stored []Attribution) ReceiptAccuracy {
	acc := ReceiptAccuracy{Sent: len(sent)}
	example := exampler(&acc.Examples)
	sentFor := map[SentReceipt]bool{}
	for _, s := range sent {
		sentFor[s] = true
	}
	onPart := map[PartRef]Attribution{}
	carrying := map[string][]Attribution{} // stored receipts by SMSC id
	for _, a := range stored {
		a.Part = max(a.Part, 1)
		onPart[a.PartRef] = a
		carrying[a.SMSCID] = append(carrying[a.SMSCID], a)
		right, who := truth.Check(a)
		switch {
		case !right:
			acc.MatchedWrong++
			example("wrong part", "receipt for id %s stored on %s, the SMSC gave that id to %s", a.SMSCID, a.PartRef, who)
		case !sentFor[SentReceipt{SMSCID: a.SMSCID, Owner: a.PartRef}]:
			acc.MatchedWrong++
			example("never sent", "%s holds a receipt for id %s, which the SMSC never sent", a.PartRef, a.SMSCID)
		}
	}
	for _, s := range sent {
		if a, ok := onPart[s.Owner]; ok && a.SMSCID == s.SMSCID {
			if right, _ := truth.Check(a); right {
				acc.Right++
				continue
			}
		}
		if elsewhere := carrying[s.SMSCID]; len(elsewhere) > 0 {
			acc.Misplaced++
			example("misplaced", "receipt for id %s (%s) stored on %s", s.SMSCID, s.Owner, elsewhere[0].PartRef)
			continue
		}
		acc.Missing++
		example("missing", "receipt for id %s (%s) stored on no part", s.SMSCID, s.Owner)
	}
	sort.Strings(acc.Examples)
	return acc
}

// exampler keeps at most three examples of each kind.
func exampler(into *[]string) func(kind, format string, args ...any) {
	seen := map[string]int{}
	return func(kind, format string, args ...any) {
		if seen[kind]++; seen[kind] <= 3 {
			*into = append(*into, kind+": "+fmt.Sprintf(format, args...))
		}
	}
}

// StoredReceipts reads the parts of messages prefix-* whose receipt state
// smpp.message_correlations holds, with the SMSC id they were matched by
// and when the receipt came.
func StoredReceipts(ctx context.Context, e *Env, prefixes ...string) []Attribution {
	GinkgoHelper()
	conn, err := pgx.Connect(ctx, e.DatabaseDSN)
	Expect(err).NotTo(HaveOccurred())
	defer conn.Close(context.WithoutCancel(ctx))
	var out []Attribution
	for _, prefix := range prefixes {
		rows, err := conn.Query(ctx, `SELECT message_id, part_number, coalesce(smsc_message_id, ''), receipt_at
			FROM smpp.message_correlations WHERE starts_with(message_id, $1 || '-') AND receipt_state IS NOT NULL`, prefix)
		Expect(err).NotTo(HaveOccurred())
		got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Attribution, error) {
			var a Attribution
			var part int16
			err := r.Scan(&a.MessageID, &part, &a.SMSCID, &a.ReceivedAt)
			a.Part = int(part)
			return a, err
		})
		Expect(err).NotTo(HaveOccurred())
		out = append(out, got...)
	}
	return out
}

// SMSCTruth reads the simulator's recorder into a ReceiptTruth for the run's
// messages (destination -> message id). It fails when the recorder has
// evicted records: the truth would be missing submits.
func SMSCTruth(smsc *Simulator, operatorID string, messageOfDest map[string]string) *ReceiptTruth {
	GinkgoHelper()
	return NewReceiptTruth(RecordedSubmits(smsc, operatorID), messageOfDest)
}

// RecordedSubmits is every submit_sm the simulator's operatorID received and
// how it answered each. It fails when the recorder has evicted records: the
// simulator would no longer know every submit.
func RecordedSubmits(smsc *Simulator, operatorID string) []SMSCSubmit {
	GinkgoHelper()
	capacity, total, evicted := smsc.Sim.Recorder.Stats()
	Expect(evicted).To(BeZero(), "the simulator's recorder (%d records) evicted %d of %d: it no longer knows every submit", capacity, evicted, total)
	return SMSCSubmits(smsc.Sim.Recorder.Query(recorder.Filter{Operator: operatorID, Command: "submit_sm"}))
}

// ReceiptsSentBySMSC is how many final receipts the simulator has sent for
// operatorID (a receipt_drop fault's are counted, not sent).
func ReceiptsSentBySMSC(smsc *Simulator, operatorID string) uint64 {
	st := smsc.Sim.Stats()
	return st.Sum(operatorID, "", "receipt", "") - st.Sum(operatorID, "", "receipt", "dropped_by_fault")
}

// WaitReceiptsStored waits until the simulator has sent every receipt it
// planned and had each answered, and the store has then applied them: want
// parts of messages prefix-* hold a receipt, and none waits in the receipt
// inbox or among the held receipts. On timeout it returns (noting what was
// left) rather than failing: what is not stored by then counts as missing in
// the accuracy, which is the gate's to judge.
func WaitReceiptsStored(ctx context.Context, e *Env, smsc *Simulator, operatorID string, want int, timeout time.Duration, prefixes ...string) {
	GinkgoHelper()
	conn, err := pgx.Connect(ctx, e.DatabaseDSN)
	Expect(err).NotTo(HaveOccurred())
	defer conn.Close(context.WithoutCancel(ctx))
	err = testutil.Poll(ctx, timeout, 200*time.Millisecond, func() error {
		sent := ReceiptsSentBySMSC(smsc, operatorID)
		if answered := smsc.Sim.Stats().Sum(operatorID, "", "receipt_resp", "ESME_ROK"); answered < sent {
			return fmt.Errorf("the connector answered %d of the %d receipts sent", answered, sent)
		}
		var stored, inbox, held int
		for _, p := range prefixes {
			var n int
			if err := conn.QueryRow(ctx, `SELECT count(*) FROM smpp.message_correlations
				WHERE starts_with(message_id, $1 || '-') AND receipt_state IS NOT NULL`, p).Scan(&n); err != nil {
				return err
			}
			stored += n
		}
		if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM smpp.receipt_inbox WHERE failed IS NULL),
			(SELECT count(*) FROM smpp.pending_receipts)`).Scan(&inbox, &held); err != nil {
			return err
		}
		if stored < want || inbox > 0 || held > 0 {
			return fmt.Errorf("%d of %d parts hold their receipt; %d receipts in the inbox, %d held", stored, want, inbox, held)
		}
		return nil
	})
	if err != nil {
		fmt.Fprintf(GinkgoWriter, "receipts not all stored after %s: %v\n", timeout, err)
	}
}
