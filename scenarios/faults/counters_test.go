package faults_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Each counter of the judge sees the loss it is for: a clean observation
// counts zero everywhere, and dropping one event, storing one receipt that
// was not published, attributing one receipt to the wrong message or
// accepting one part twice each move exactly their counter. The entries
// trust these counters with a fault only because they fail here on purpose.
var _ = Describe("The fault matrix's counters", Label("judge"), func() {
	t0 := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	// clean: three messages (the last in two parts), all accepted at 10 ms
	// intervals, outcomes and receipts published, receipts stored.
	clean := func() observed {
		o := observed{LiftedAt: t0.Add(15 * time.Millisecond), Now: t0.Add(time.Second)}
		n := 0
		for i := 0; i < 3; i++ {
			m := sent{ID: fmt.Sprintf("m-%d", i), Dest: fmt.Sprintf("44770000%04d", i), Parts: 1 + i/2}
			o.Messages = append(o.Messages, m)
			for p := 1; p <= m.Parts; p++ {
				n++
				at, id := t0.Add(time.Duration(n)*10*time.Millisecond), fmt.Sprint(n)
				o.Submits = append(o.Submits, submit{Time: at, Dest: m.Dest, Part: p, Status: "ESME_ROK", SMSCID: id, Accepted: true})
				o.Outcomes = append(o.Outcomes, outcomeEvent{MessageID: m.ID, PartNumber: p, Outcome: "accepted", SMSCMessageID: id})
				o.Receipts = append(o.Receipts, receiptEvent{MessageID: m.ID, PartNumber: p, SMSCMessageID: id, Stat: "DELIVRD", ReceivedAt: at.Add(time.Millisecond)})
				o.Stored = append(o.Stored, storedReceipt{MessageID: m.ID, Part: p})
			}
		}
		return o
	}

	It("counts nothing on a clean run, and the recovery from the lift", func() {
		c := judge(clean())
		Expect(c.OutcomesMissing).To(BeZero())
		Expect(c.ReceiptsUnpublished).To(BeZero())
		Expect(c.ReceiptsMissing).To(BeZero())
		Expect(c.ReceiptsWrong).To(BeZero())
		Expect(c.PartsTwice).To(BeZero())
		Expect(c.AcceptedBySim).To(Equal(4))
		Expect(c.Outcome).To(Equal(map[string]int{"accepted": 4}))
		Expect(c.RecoverySeconds).To(Equal(0.01)) // lift at 15 ms, next accept at 20 ms... rounded to 10 ms
	})

	It("sees a message without an outcome when one outcome event is dropped, and a pending one is no outcome", func() {
		o := clean()
		o.Outcomes = o.Outcomes[:3] // the second part of m-2
		Expect(judge(o).OutcomesMissing).To(Equal(1))
		o = clean()
		o.Outcomes[0].Outcome = "pending"
		c := judge(o)
		Expect(c.OutcomesMissing).To(Equal(1))
		Expect(c.NonFinal).To(Equal(1))
	})

	It("sees a stored receipt that was not published, and counts it as missing too", func() {
		o := clean()
		o.Receipts = o.Receipts[1:]
		c := judge(o)
		Expect(c.ReceiptsUnpublished).To(Equal(1))
		Expect(c.ReceiptsMissing).To(Equal(1))
		Expect(c.ReceiptsWrong).To(BeZero())
	})

	It("sees a receipt published on the wrong message, also when the SMSC reused the id", func() {
		o := clean()
		o.Receipts[1].MessageID = "m-0"
		Expect(judge(o).ReceiptsWrong).To(Equal(1))

		// The SMSC restarted and gave m-1's id "2" to a new message m-9; m-9's
		// receipt published as m-1's (the old row holding the id) is wrong,
		// and m-9 has no receipt.
		o = clean()
		later := t0.Add(time.Minute)
		o.Messages = append(o.Messages, sent{ID: "m-9", Dest: "447700009999", Parts: 1})
		o.Submits = append(o.Submits, submit{Time: later, Dest: "447700009999", Part: 1, Status: "ESME_ROK", SMSCID: "2", Accepted: true})
		o.Outcomes = append(o.Outcomes, outcomeEvent{MessageID: "m-9", PartNumber: 1, Outcome: "accepted", SMSCMessageID: "2"})
		o.Receipts = append(o.Receipts, receiptEvent{MessageID: "m-1", PartNumber: 1, SMSCMessageID: "2", Stat: "DELIVRD", ReceivedAt: later.Add(time.Millisecond)})
		c := judge(o)
		Expect(c.ReceiptsWrong).To(Equal(1))
		Expect(c.ReceiptsMissing).To(Equal(1))

		// The same receipt published on m-9 is right.
		o.Receipts[len(o.Receipts)-1].MessageID = "m-9"
		c = judge(o)
		Expect(c.ReceiptsWrong).To(BeZero())
		Expect(c.ReceiptsMissing).To(BeZero())
	})

	It("sees a part accepted twice, but not a part refused and then accepted", func() {
		o := clean()
		again := o.Submits[3]
		again.Time, again.SMSCID = again.Time.Add(50*time.Millisecond), "99"
		o.Submits = append(o.Submits, again)
		Expect(judge(o).PartsTwice).To(Equal(1))

		o = clean()
		refused := o.Submits[3]
		refused.Time, refused.Status, refused.Accepted, refused.SMSCID = refused.Time.Add(-5*time.Millisecond), "ESME_RTHROTTLED", false, ""
		o.Submits = append(o.Submits, refused)
		Expect(judge(o).PartsTwice).To(BeZero())
	})

	It("measures recovery as the longest pause when asked, and until now when nothing came after the lift", func() {
		o := clean()
		o.GapFrom = t0
		Expect(judge(o).RecoverySeconds).To(Equal(0.01))
		o.Outcomes = o.Outcomes[1:] // m-0 still waits: traffic stopped at 40 ms
		Expect(judge(o).RecoverySeconds).To(Equal(0.96))
		o = clean()
		o.LiftedAt = t0.Add(500 * time.Millisecond)
		Expect(judge(o).RecoverySeconds).To(Equal(0.5))
	})

	It("locates the arrivals over the limit relative to the injection", func() {
		o := clean()
		o.Limit, o.InjectedAt = 3, t0
		Expect(judge(o).BreachSpan).To(Equal("1 arrivals over 3/s between +0.04s and +0.04s of the injection"))
		o.Limit = 4
		Expect(judge(o).BreachSpan).To(BeEmpty())
	})
})
