package framework

import (
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
)

// The simulator is the judge of receipt correlation (DESIGN.md section 7):
// its recorder says which SMSC message id it gave to which submit_sm, and a
// submit_sm is tied to one message of the run by its destination (each
// message of a run goes to its own) and to one part by its UDH. Both the
// fault matrix (receipt events on sms.dlr.inbound) and the Phase 2 gate
// (receipts stored in smpp.message_correlations) judge the parts the
// connector put receipts on with this one ReceiptTruth, so the two gates
// cannot disagree on what "the right part" is.

// SMSCSubmit is one submit_sm as the simulated SMSC recorded it.
type SMSCSubmit struct {
	Time     time.Time
	Dest     string
	Part     int    // from the UDH; 1 for a one-part message
	Status   string // as answered; "" when unanswered
	SMSCID   string // the id given in an ESME_ROK resp
	Accepted bool
}

// SMSCSubmits turns the simulator's submit_sm records into SMSCSubmits.
func SMSCSubmits(recs []recorder.Record) []SMSCSubmit {
	out := make([]SMSCSubmit, 0, len(recs))
	for _, rec := range recs {
		if rec.Command != "submit_sm" {
			continue
		}
		out = append(out, SMSCSubmit{Time: rec.Time, Dest: rec.Dest, Part: UDHPart(rec.UDH), Status: rec.Status,
			SMSCID: rec.MessageID, Accepted: rec.Status == "ESME_ROK" && rec.MessageID != ""})
	}
	return out
}

// UDHPart reads the part number from a user data header (hex, as the
// simulator records it): concatenation IEs 0x00 (8-bit reference) and 0x08
// (16-bit). It returns 1 without one.
func UDHPart(udhHex string) int {
	b, err := hex.DecodeString(udhHex)
	if err != nil || len(b) < 1 {
		return 1
	}
	for i := 1; i+1 < len(b); {
		iei, l := b[i], int(b[i+1])
		data := b[i+2:]
		if len(data) < l {
			break
		}
		switch {
		case iei == 0x00 && l == 3:
			return int(data[2])
		case iei == 0x08 && l == 4:
			return int(data[3])
		}
		i += 2 + l
	}
	return 1
}

// PartRef names one part of one message of the run.
type PartRef struct {
	MessageID string
	Part      int
}

func (p PartRef) String() string { return fmt.Sprintf("%s part %d", p.MessageID, p.Part) }

// Attribution is a receipt the connector put on a part: the SMSC id it was
// matched by and when it was received.
type Attribution struct {
	PartRef
	SMSCID     string
	ReceivedAt time.Time
}

// ReceiptTruth knows, for each SMSC message id, which parts of the run the
// SMSC gave it to and when.
type ReceiptTruth struct {
	byID      map[string][]SMSCSubmit // accepted submits by SMSC id, oldest first
	messageOf map[string]string       // destination -> message id
}

// NewReceiptTruth builds the truth from what the SMSC recorded and the run's
// messages by destination (one destination per message). Submits to other
// destinations (another run's traffic) are ignored.
func NewReceiptTruth(submits []SMSCSubmit, messageOfDest map[string]string) *ReceiptTruth {
	t := &ReceiptTruth{byID: map[string][]SMSCSubmit{}, messageOf: messageOfDest}
	sorted := append([]SMSCSubmit(nil), submits...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Time.Before(sorted[j].Time) })
	for _, s := range sorted {
		if _, ours := messageOfDest[s.Dest]; s.Accepted && ours {
			t.byID[s.SMSCID] = append(t.byID[s.SMSCID], s)
		}
	}
	return t
}

// Owner is the part a receipt for smscID received at `at` belongs to: the
// latest accepted submit the SMSC gave that id to before then (an SMSC that
// restarts gives old ids to new messages; a receipt cannot precede its
// submit_sm, though it can precede the submit_sm_resp).
func (t *ReceiptTruth) Owner(smscID string, at time.Time) (PartRef, bool) {
	var owner *SMSCSubmit
	for i := range t.byID[smscID] {
		if s := &t.byID[smscID][i]; !s.Time.After(at) {
			owner = s
		}
	}
	if owner == nil {
		return PartRef{}, false
	}
	return PartRef{MessageID: t.messageOf[owner.Dest], Part: max(owner.Part, 1)}, true
}

// Check says whether a receipt was put on the part the SMSC gave its id to;
// when not, who says whose it was ("no submit" when no part of the run had
// that id before the receipt came).
func (t *ReceiptTruth) Check(a Attribution) (right bool, who string) {
	owner, ok := t.Owner(a.SMSCID, a.ReceivedAt)
	if !ok {
		return false, "no submit"
	}
	if owner == (PartRef{MessageID: a.MessageID, Part: max(a.Part, 1)}) {
		return true, owner.String()
	}
	return false, owner.String()
}
