package server

import (
	"container/heap"
	"sync"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/receipt"
	"github.com/smpp-connector/smpp-connector/smscsim/smstext"
	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// message is an accepted submit_sm as the SMSC remembers it.
type message struct {
	num         uint64
	id          string // as given in the resp
	account     string
	src, dst    pdu.Address
	regDlr      byte
	submitted   time.Time
	text        string
	part, total int

	mu    sync.Mutex
	state string // ENROUTE until the receipt is due, then the final stat
	done  time.Time
}

func (m *message) snapshot() (string, time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state, m.done
}

// msgStore keeps the most recent messages by id for query_sm, cancel_sm and
// replace_sm; older ones are forgotten (a bounded ring).
type msgStore struct {
	mu   sync.Mutex
	ring []*message
	next int
	byID map[string]*message
}

func newMsgStore(size int) *msgStore {
	return &msgStore{ring: make([]*message, size), byID: make(map[string]*message, size)}
}

func (st *msgStore) put(m *message) {
	st.mu.Lock()
	if old := st.ring[st.next]; old != nil {
		delete(st.byID, old.id)
	}
	st.ring[st.next] = m
	st.next = (st.next + 1) % len(st.ring)
	st.byID[m.id] = m
	st.mu.Unlock()
}

func (st *msgStore) get(id string) (*message, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	m, ok := st.byID[id]
	return m, ok
}

func stateByte(stat string) byte {
	if stat == "ENROUTE" {
		return 1
	}
	return receipt.MessageState(stat)
}

// cancel deletes a message whose receipt is still pending; the receipt then
// reports DELETED.
func (op *Operator) cancel(id string, acc *account) data.CommandStatusType {
	m, ok := op.store.get(id)
	if !ok || m.account != acc.cfg.SystemID {
		return data.ESME_RCANCELFAIL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state != "ENROUTE" {
		return data.ESME_RCANCELFAIL
	}
	m.state = receipt.Deleted
	m.done = time.Now()
	return data.ESME_ROK
}

// replace changes the text of a message still en route.
func (op *Operator) replace(id string, acc *account, text []byte) data.CommandStatusType {
	m, ok := op.store.get(id)
	if !ok || m.account != acc.cfg.SystemID {
		return data.ESME_RREPLACEFAIL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state != "ENROUTE" {
		return data.ESME_RREPLACEFAIL
	}
	m.text = string(text)
	return data.ESME_ROK
}

// plannedReceipt is a receipt decided at submit time, with what the faults did to it.
type plannedReceipt struct {
	msg *message
	act faults.ReceiptAction
}

// planReceipts decides whether the message gets a receipt (registered_delivery
// and the profile's part rule) and runs the receipt faults on it.
func (op *Operator) planReceipts(m *message) []plannedReceipt {
	want := m.regDlr & 0x03
	if want == 0 || want == 3 || !op.prof.ReceiptFor(m.part, m.total) {
		return nil
	}
	act := faults.ReceiptAction{Copies: 1, Stat: receipt.Delivered, Err: "000"}
	if reg := op.sim.Faults; !reg.Empty() {
		reg.OnReceipt(&faults.ReceiptEvent{Operator: op.cfg.ID, Account: m.account, Dest: m.dst.Address(), MessageID: m.id, Now: m.submitted}, &act)
	}
	if want == 2 && act.Stat == receipt.Delivered {
		return nil // failure receipts only
	}
	if act.Drop {
		op.sim.stats.add(op.cfg.ID, m.account, "receipt", "dropped_by_fault")
		op.finish(m, act.Stat, time.Now())
		return nil
	}
	return []plannedReceipt{{msg: m, act: act}}
}

// dispatchReceipt sends a planned receipt now, or after its delay. With via
// set (early receipts on a receiving bind) it goes straight to that bind.
// The profile's intermediate receipts go first, at once: an SMSC reports
// the message buffered or en route when it takes it, and final when the
// delivery ends.
func (op *Operator) dispatchReceipt(pr *plannedReceipt, via *session) {
	op.sendIntermediate(pr.msg, via)
	if pr.act.Delay > 0 && !pr.act.Early {
		op.accounts[pr.msg.account].scheduled.Add(1)
		op.sched.at(time.Now().Add(pr.act.Delay), *pr)
		return
	}
	op.deliverReceipt(pr, via)
}

// sendIntermediate sends one receipt per intermediate stat of the profile,
// in order, each its own PDU. They do not change the message's state.
func (op *Operator) sendIntermediate(m *message, via *session) {
	stats := op.prof.Receipt.Intermediate
	if len(stats) == 0 {
		return
	}
	acc := op.accounts[m.account]
	now := time.Now()
	for _, stat := range stats {
		op.sendReceipt(acc, &outbound{pdu: op.receiptPDU(m, stat, "000", now, true), receipt: true, msgID: m.id}, via)
		op.sim.stats.add(op.cfg.ID, m.account, "receipt_intermediate", stat)
	}
}

func (op *Operator) deliverReceipt(pr *plannedReceipt, via *session) {
	now := time.Now()
	stat := op.finish(pr.msg, pr.act.Stat, now)
	acc := op.accounts[pr.msg.account]
	var d wire.DeliverSM
	if pr.act.Style != nil {
		d = op.styledReceiptPDU(pr.msg, stat, pr.act.Err, now, pr.act.Style)
	} else {
		d = op.receiptPDU(pr.msg, stat, pr.act.Err, now, false)
	}
	ob := &outbound{pdu: d, receipt: true, msgID: pr.msg.id}
	for i := 0; i < max(pr.act.Copies, 1); i++ {
		op.sendReceipt(acc, ob, via)
	}
	op.sim.stats.addN(op.cfg.ID, pr.msg.account, "receipt", stat, uint64(max(pr.act.Copies, 1)))
}

// sendReceipt queues a receipt for the account's receivers or, with via set,
// sends it down that bind at once.
func (op *Operator) sendReceipt(acc *account, ob *outbound, via *session) {
	if via == nil {
		op.enqueue(acc, ob)
		return
	}
	// Early receipt on the submitting bind: bypass the queue so it is on
	// the wire before the resp.
	seq := via.nextSeq()
	select {
	case via.dwin <- struct{}{}:
		via.pmu.Lock()
		via.pending[seq] = inflight{ob, time.Now()}
		via.pmu.Unlock()
	default:
	}
	via.send(ob.pdu.Append(nil, seq))
}

// finish moves the message to its final state, unless cancel_sm got there first.
func (op *Operator) finish(m *message, stat string, now time.Time) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state == "ENROUTE" {
		m.state, m.done = stat, now
	}
	return m.state
}

// receiptPDU renders a receipt as the operator's profile says: in deliver_sm
// or data_sm, its text in the profile's receipt data_coding, with the
// intermediate esm_class for an intermediate one.
func (op *Operator) receiptPDU(m *message, stat, errc string, now time.Time, intermediate bool) wire.DeliverSM {
	p := op.prof
	rid := p.ReceiptID().Render(m.num)
	esm := *p.Receipt.ESMClass
	if intermediate {
		esm = *p.Receipt.IntermediateESMClass
	}
	d := wire.DeliverSM{
		AsDataSM: p.Receipt.PDU == profile.PDUDataSM,
		SrcTON:   m.dst.Ton(), SrcNPI: m.dst.Npi(), Src: m.dst.Address(),
		DstTON: m.src.Ton(), DstNPI: m.src.Npi(), Dst: m.src.Address(),
		EsmClass: esm, DataCoding: p.Receipt.DataCoding,
	}
	r := receipt.Receipt{ID: rid, Submitted: m.submitted, Done: now, Stat: stat, Err: errc, Original: m.text}
	if stat == receipt.Delivered {
		r.Dlvr = 1
	}
	if p.Receipt.Carry != profile.CarryTLV {
		d.Message = smstext.EncodeLossy(r.Append(make([]byte, 0, 160), p.Receipt.Text), receiptAlphabet(p))
	}
	if p.Receipt.Carry != profile.CarryText {
		d.TLVs = []wire.TLV{
			{Tag: uint16(pdu.TagReceiptedMessageID), Value: append([]byte(rid), 0)},
			{Tag: uint16(pdu.TagMessageStateOption), Value: []byte{receipt.MessageState(stat)}},
			{Tag: uint16(pdu.TagNetworkErrorCode), Value: r.NetworkErrorCode()},
		}
	}
	if !d.AsDataSM && len(d.Message) > maxShortMessage {
		// A UCS2 receipt with a long id outgrows short_message: it goes in
		// message_payload instead (SMPP 3.4 allows it in deliver_sm), never
		// cut short.
		d.TLVs = append([]wire.TLV{{Tag: wire.TagMessagePayload, Value: d.Message}}, d.TLVs...)
		d.Message = nil
	}
	return d
}

// maxShortMessage is the most short_message holds (sm_length is one octet,
// and SMPP 3.4 5.2.21 caps short_message at 254 octets).
const maxShortMessage = 254

// receiptAlphabet is the alphabet of the receipt's data_coding: UCS2 for 8,
// Latin-1 for 3, the operator's dataCoding0 alphabet for 0.
func receiptAlphabet(p profile.Profile) string {
	switch p.Receipt.DataCoding {
	case smstext.DCUCS2:
		return "ucs2"
	case smstext.DCLatin1:
		return smstext.AlphabetLatin1
	}
	return p.DataCoding0
}

// scheduler releases delayed receipts at their due time.
type scheduler struct {
	op    *Operator
	mu    sync.Mutex
	h     receiptHeap
	wake  chan struct{}
	quit  chan struct{}
	done  chan struct{}
	start sync.Once
}

func newScheduler(op *Operator) *scheduler {
	return &scheduler{op: op, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
}

type timedReceipt struct {
	due time.Time
	pr  plannedReceipt
}

type receiptHeap []timedReceipt

func (h receiptHeap) Len() int           { return len(h) }
func (h receiptHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h receiptHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *receiptHeap) Push(x any)        { *h = append(*h, x.(timedReceipt)) }
func (h *receiptHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (sc *scheduler) at(due time.Time, pr plannedReceipt) {
	sc.start.Do(func() { go sc.loop() })
	sc.mu.Lock()
	heap.Push(&sc.h, timedReceipt{due: due, pr: pr})
	sc.mu.Unlock()
	select {
	case sc.wake <- struct{}{}:
	default:
	}
}

// Pending is how many receipts wait for their delay.
func (sc *scheduler) pending() int {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.h.Len()
}

func (sc *scheduler) loop() {
	defer close(sc.done)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		sc.mu.Lock()
		now := time.Now()
		var due []plannedReceipt
		for sc.h.Len() > 0 && !sc.h[0].due.After(now) {
			due = append(due, heap.Pop(&sc.h).(timedReceipt).pr)
		}
		wait := time.Hour
		if sc.h.Len() > 0 {
			wait = sc.h[0].due.Sub(now)
		}
		sc.mu.Unlock()
		for i := range due {
			sc.op.accounts[due[i].msg.account].scheduled.Add(-1)
			sc.op.deliverReceipt(&due[i], nil)
		}
		t.Reset(wait)
		select {
		case <-t.C:
		case <-sc.wake:
		case <-sc.quit:
			return
		}
	}
}

func (sc *scheduler) stop() {
	started := true
	sc.start.Do(func() { started = false })
	close(sc.quit)
	if started {
		<-sc.done
	}
}
