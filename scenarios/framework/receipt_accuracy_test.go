package framework

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// accuracyWorld is a clean run: m-0 in one part, m-1 in three, m-2 in one
// to a destination whose receipt the SMSC drops; every part accepted 10 ms
// apart, each receipt stored 1 ms after its submit (before its resp, as an
// early receipt would be).
func accuracyWorld() (*ReceiptTruth, []SentReceipt, []Attribution) {
	t0 := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	messageOf := map[string]string{}
	var submits []SMSCSubmit
	var stored []Attribution
	n := 0
	for i, parts := range []int{1, 3, 1} {
		dest := fmt.Sprintf("44770000%04d", i)
		if i == 2 {
			dest = NoReceiptPrefix + "000"
		}
		messageOf[dest] = fmt.Sprintf("m-%d", i)
		for p := 1; p <= parts; p++ {
			n++
			at, id := t0.Add(time.Duration(n)*10*time.Millisecond), fmt.Sprint(n)
			submits = append(submits, SMSCSubmit{Time: at, Dest: dest, Part: p, Status: "ESME_ROK", SMSCID: id, Accepted: true})
			if i != 2 {
				stored = append(stored, Attribution{PartRef: PartRef{MessageID: messageOf[dest], Part: p}, SMSCID: id, ReceivedAt: at.Add(time.Millisecond)})
			}
		}
	}
	// Another run's traffic and a refused submit: neither is the truth's.
	submits = append(submits, SMSCSubmit{Time: t0, Dest: "449999", SMSCID: "99", Status: "ESME_ROK", Accepted: true},
		SMSCSubmit{Time: t0, Dest: "447700000001", Part: 2, Status: "ESME_RTHROTTLED"})
	truth := NewReceiptTruth(submits, messageOf)
	sent := truth.Sent(func(s SMSCSubmit) bool { return !strings.HasPrefix(s.Dest, NoReceiptPrefix) })
	return truth, sent, stored
}

func TestReceiptAccuracyOfACleanRun(t *testing.T) {
	truth, sent, stored := accuracyWorld()
	a := MeasureReceiptAccuracy(truth, sent, stored)
	if a.Sent != 4 || a.Right != 4 || a.Misplaced+a.Missing+a.MatchedWrong != 0 || a.Percent() != 100 {
		t.Fatalf("clean run: %s %v", a, a.Examples)
	}
}

// Each way a receipt can end up moves its own counters, and one of the Phase
// 2 gate's two criteria at least: a receipt the SMSC never sent, stored
// beside all the sent ones, leaves the accuracy at 100 % and is seen only as
// matched wrong, which is why the gate has both. The gate trusts these
// figures because they fail here.
func TestReceiptAccuracySeesEachLoss(t *testing.T) {
	for name, tc := range map[string]struct {
		spoil                             func([]Attribution) []Attribution
		right, misplaced, missing, wrongs int
	}{
		// Parts 1 and 2 of m-1 swapped their SMSC ids (a resp stored on
		// the wrong part): both receipts are on the other part.
		"swapped parts": {spoil: func(s []Attribution) []Attribution {
			s[1].SMSCID, s[2].SMSCID = s[2].SMSCID, s[1].SMSCID
			return s
		}, right: 2, misplaced: 2, wrongs: 2},
		// m-1 part 3's receipt was never stored.
		"lost": {spoil: func(s []Attribution) []Attribution { return s[:3] }, right: 3, missing: 1},
		// m-0's receipt stored on m-1 part 3 instead (matched by message,
		// not by part): one misplaced, and part 3's own is then missing.
		"on another message": {spoil: func(s []Attribution) []Attribution {
			s[3].SMSCID, s[3].ReceivedAt = s[0].SMSCID, s[0].ReceivedAt
			return s[1:]
		}, right: 2, misplaced: 1, missing: 1, wrongs: 1},
		// m-2, whose receipt the SMSC dropped, holds one anyway.
		"never sent": {spoil: func(s []Attribution) []Attribution {
			return append(s, Attribution{PartRef: PartRef{MessageID: "m-2", Part: 1}, SMSCID: "5", ReceivedAt: s[3].ReceivedAt.Add(time.Second)})
		}, right: 4, wrongs: 1},
		// A receipt stored for an id before the SMSC had given it out.
		"before its submit": {spoil: func(s []Attribution) []Attribution {
			s[0].ReceivedAt = s[0].ReceivedAt.Add(-time.Second)
			return s
		}, right: 3, misplaced: 1, wrongs: 1},
	} {
		truth, sent, stored := accuracyWorld()
		a := MeasureReceiptAccuracy(truth, sent, tc.spoil(stored))
		if a.Right != tc.right || a.Misplaced != tc.misplaced || a.Missing != tc.missing || a.MatchedWrong != tc.wrongs {
			t.Errorf("%s: %s, want %d right, %d misplaced, %d missing, %d wrong\n%s", name, a,
				tc.right, tc.misplaced, tc.missing, tc.wrongs, strings.Join(a.Examples, "\n"))
		}
		if a.Sent != a.Right+a.Misplaced+a.Missing || (a.Percent() >= 100 && a.MatchedWrong == 0) {
			t.Errorf("%s: %s: the gate would pass", name, a)
		}
	}
}

func TestUDHPart(t *testing.T) {
	for udh, want := range map[string]int{"0500034a0202": 2, "060804004a0301": 1, "": 1, "zz": 1} {
		if got := UDHPart(udh); got != want {
			t.Errorf("UDHPart(%q) = %d, want %d", udh, got, want)
		}
	}
}
