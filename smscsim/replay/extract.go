package replay

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/receipt"
	"github.com/smpp-connector/smpp-connector/smscsim/smstext"
	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// closeWindow is how soon after a submit_sm_resp a disconnect by the SMSC
// counts as caused by that submit (an SMSC that answers and hangs up).
const closeWindow = time.Second

type extractor struct {
	b        *Behaviour
	pending  map[int]map[int32]Msg // requests by connection and sequence
	byID     map[string]int        // submit_sm_resp id (and its other spellings) -> receipt slot
	respAt   map[int]time.Time     // receipt slot -> when its submit was answered
	early    map[string]Msg        // receipts whose submit_sm_resp was not seen yet
	lastResp map[int]int           // connection -> index in Submits of its last answer
	lastAt   map[int]time.Time
	respIDs  []string
	rcptIDs  []string
	counts   map[string]int // for notes
	unbound  map[int]bool   // connections the ESME unbound: the close that follows is no fault
}

// Extract reads a session's SMSC behaviour.
func Extract(s *Session) *Behaviour {
	b := &Behaviour{PDUs: len(s.Msgs), Conns: len(s.Conns)}
	if len(s.Msgs) > 0 {
		b.Start = s.Msgs[0].Time
	}
	x := &extractor{b: b, pending: map[int]map[int32]Msg{}, byID: map[string]int{}, respAt: map[int]time.Time{},
		early: map[string]Msg{}, lastResp: map[int]int{}, lastAt: map[int]time.Time{}, counts: map[string]int{}, unbound: map[int]bool{}}
	closes := map[int]time.Time{}
	for _, c := range s.Conns {
		b.Notes = append(b.Notes, c.Problems...)
		if !c.ClosedBySMSC.IsZero() {
			closes[c.ID] = c.ClosedBySMSC
		}
	}
	for _, m := range s.Msgs {
		for id, at := range closes {
			if !m.Time.Before(at) {
				x.disconnect(id, at)
				delete(closes, id)
			}
		}
		x.msg(m)
	}
	for id, at := range closes {
		x.disconnect(id, at)
	}
	x.finish()
	return b
}

func (x *extractor) msg(m Msg) {
	id := m.Header.CommandID
	switch {
	case !m.FromSMSC && !wire.IsResponse(id):
		if x.pending[m.Conn] == nil {
			x.pending[m.Conn] = map[int32]Msg{}
		}
		if id == data.SUBMIT_SM {
			// The n-th submit gets the n-th answer: its place is taken on
			// arrival (the SMSC may answer out of order), as drop until answered.
			m.slot = len(x.b.Submits)
			x.b.Submits = append(x.b.Submits, Answer{Drop: true})
		}
		x.pending[m.Conn][m.Header.SequenceNumber] = m
		if id == data.UNBIND {
			x.unbound[m.Conn] = true
		}
		if br, ok := m.PDU.(*pdu.BindRequest); ok && !slices.Contains(x.b.Accounts, br.SystemID) {
			x.b.Accounts = append(x.b.Accounts, br.SystemID) // the password is never read
		}
	case m.FromSMSC && (wire.IsResponse(id) || id == data.GENERIC_NACK):
		req, ok := x.pending[m.Conn][m.Header.SequenceNumber]
		if !ok {
			x.counts["responses to requests not in the capture"]++
			return
		}
		delete(x.pending[m.Conn], m.Header.SequenceNumber)
		x.answer(req, m)
	case m.FromSMSC && (id == data.DELIVER_SM || id == data.DATA_SM):
		x.deliver(m)
	case m.FromSMSC && id == data.UNBIND:
		x.disconnect(m.Conn, m.Time)
	case m.FromSMSC && id == data.ENQUIRE_LINK:
		x.counts["enquire_link sent by the SMSC (set the operator profile's enquireLinkInterval)"]++
	}
}

func (x *extractor) answer(req, resp Msg) {
	a := Answer{Status: resp.Header.CommandStatus, GenericNack: resp.Header.CommandID == data.GENERIC_NACK, Delay: resp.Time.Sub(req.Time)}
	switch req.Header.CommandID {
	case data.BIND_TRANSCEIVER, data.BIND_TRANSMITTER, data.BIND_RECEIVER:
		x.b.Binds = append(x.b.Binds, a)
	case data.SUBMIT_SM:
		x.b.Submits[req.slot] = a
		x.lastResp[req.Conn], x.lastAt[req.Conn] = req.slot, resp.Time
		sub, _ := req.PDU.(*pdu.SubmitSM)
		r, _ := resp.PDU.(*pdu.SubmitSMResp)
		if a.Status != data.ESME_ROK || a.GenericNack || sub == nil || r == nil {
			return
		}
		x.respIDs = append(x.respIDs, r.MessageID)
		if want := sub.RegisteredDelivery & 0x03; want != 1 && want != 2 {
			return
		}
		slot := len(x.b.Receipts)
		x.b.Receipts = append(x.b.Receipts, ReceiptOutcome{Drop: true, submit: req.slot})
		x.respAt[slot] = resp.Time
		for _, k := range idKeys(r.MessageID) {
			x.byID[k] = slot
		}
		for _, k := range idKeys(r.MessageID) {
			if e, ok := x.early[k]; ok {
				delete(x.early, k)
				x.receipt(e, k, true)
				break
			}
		}
	case data.ENQUIRE_LINK, data.UNBIND:
	default:
		x.counts["answers to "+wire.CommandName(req.Header.CommandID)+" (not replayed)"]++
	}
}

// receiptClasses are the esm_class message types of receipts: SMSC
// delivery receipt, SME delivery acknowledgement, intermediate notification.
func isReceipt(esm byte, tlvs map[pdu.Tag]pdu.Field) bool {
	if t := esm & 0x3C; t == 0x04 || t == 0x08 || t == 0x20 {
		return true
	}
	_, ok := tlvs[pdu.TagReceiptedMessageID]
	return ok
}

func (x *extractor) deliver(m Msg) {
	var esm, dc byte
	var tlvs map[pdu.Tag]pdu.Field
	var octets []byte
	var src, dst string
	switch p := m.PDU.(type) {
	case *pdu.DeliverSM:
		esm, tlvs, src, dst = p.EsmClass, p.OptionalParameters, p.SourceAddr.Address(), p.DestAddr.Address()
		octets, _ = p.Message.GetMessageData()
		if enc := p.Message.Encoding(); enc != nil {
			dc = enc.DataCoding()
		}
	case *pdu.DataSM:
		esm, tlvs, dc, src, dst = p.EsmClass, p.OptionalParameters, p.DataCoding, p.SourceAddr.Address(), p.DestAddr.Address()
	default:
		x.counts["deliver_sm that could not be decoded"]++
		return
	}
	if len(octets) == 0 {
		if f, ok := tlvs[pdu.TagMessagePayload]; ok {
			octets = f.Data
		}
	}
	if !isReceipt(esm, tlvs) {
		text, err := smstext.Decode(dc, octets, "gsm7")
		if err != nil {
			text = string(octets)
		}
		if esm&0x40 != 0 {
			x.counts["MO parts with a UDH (replayed as separate messages)"]++
		}
		x.b.MOs = append(x.b.MOs, MOEvent{At: m.Time.Sub(x.b.Start), Source: src, Dest: dst, Text: text})
		return
	}
	text, err := smstext.Decode(dc, octets, "latin1")
	if err != nil {
		text = string(octets)
	}
	tpl, f := receipt.DeriveTemplate(text)
	id := f.ID
	if t, ok := tlvs[pdu.TagReceiptedMessageID]; ok {
		id = strings.TrimRight(string(t.Data), "\x00")
	}
	stat := f.Stat
	if t, ok := tlvs[pdu.TagMessageStateOption]; ok && stat == "" && len(t.Data) == 1 {
		stat = stateStat[t.Data[0]]
	}
	if esm&0x3C == 0x20 || receipt.Intermediate(stat) {
		x.counts["intermediate receipts (set the operator profile's receipt.intermediate)"]++
		return
	}
	if x.b.Style == nil {
		st := &faults.ReceiptStyle{Template: tpl, DataCoding: dc, TLVs: []string{}}
		e := esm
		st.ESMClass = &e
		for _, t := range []struct {
			tag  pdu.Tag
			name string
		}{{pdu.TagReceiptedMessageID, faults.TLVReceiptedMessageID}, {pdu.TagMessageStateOption, faults.TLVMessageState}, {pdu.TagNetworkErrorCode, faults.TLVNetworkErrorCode}} {
			if _, ok := tlvs[t.tag]; ok {
				st.TLVs = append(st.TLVs, t.name)
			}
		}
		x.b.Style = st
	}
	x.rcptIDs = append(x.rcptIDs, id)
	m.Header.CommandStatus = 0
	rm := m
	rm.PDU = &receiptPDU{stat: stat, err: f.Err}
	for _, k := range idKeys(id) {
		if _, ok := x.byID[k]; ok {
			x.receipt(rm, k, false)
			return
		}
	}
	// Before its submit_sm_resp (early), or for a submit outside the capture.
	x.early[id] = rm
}

// receiptPDU carries a receipt's stat and err from deliver to receipt.
type receiptPDU struct {
	pdu.PDU
	stat, err string
}

var stateStat = map[byte]string{1: receipt.Enroute, 2: receipt.Delivered, 3: receipt.Expired, 4: receipt.Deleted,
	5: receipt.Undeliverable, 6: receipt.Accepted, 7: receipt.Unknown, 8: receipt.Rejected}

func (x *extractor) receipt(m Msg, key string, early bool) {
	slot := x.byID[key]
	r := &x.b.Receipts[slot]
	rp := m.PDU.(*receiptPDU)
	if r.received {
		r.Copies++
		return
	}
	*r = ReceiptOutcome{received: true, Copies: 1, Stat: rp.stat, Err: rp.err, Early: early, submit: r.submit}
	if !early {
		r.Delay = m.Time.Sub(x.respAt[slot])
	}
}

func (x *extractor) disconnect(conn int, at time.Time) {
	if x.unbound[conn] {
		return
	}
	if i, ok := x.lastResp[conn]; ok && at.Sub(x.lastAt[conn]) <= closeWindow && !x.b.Submits[i].Close {
		x.b.Submits[i].Close = true
		delete(x.lastResp, conn)
		return
	}
	x.b.Disconnects = append(x.b.Disconnects, at.Sub(x.b.Start))
}

func (x *extractor) finish() {
	for _, reqs := range x.pending {
		for _, req := range reqs {
			if req.Header.CommandID == data.SUBMIT_SM {
				x.counts["submit_sm never answered (replayed as drop)"]++
			}
		}
	}
	// The simulator plans a receipt when it handles the submit, in arrival
	// order; the recording found them in answer order.
	slices.SortStableFunc(x.b.Receipts, func(a, b ReceiptOutcome) int { return a.submit - b.submit })
	if n := len(x.early); n > 0 {
		x.counts["receipts for submits outside the capture"] = n
	}
	x.b.RespIDFormat = idFormat(x.respIDs)
	if x.b.Style != nil {
		if rf := idFormat(x.rcptIDs); rf != "" && rf != x.b.RespIDFormat {
			x.b.Style.IDFormat = rf // a quirk of its own: ids differ between resp and receipt
		}
	}
	if f := x.b.RespIDFormat; f != "" && f != "decimal" {
		x.b.Notes = append(x.b.Notes, fmt.Sprintf("the SMSC's message ids look %s: set the operator profile's messageId.format: %s for the same ids in submit_sm_resp", f, f))
	}
	keys := make([]string, 0, len(x.counts))
	for k := range x.counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		x.b.Notes = append(x.b.Notes, fmt.Sprintf("%d %s", x.counts[k], k))
	}
}

var (
	decimalID = regexp.MustCompile(`^[0-9]+$`)
	hexLower  = regexp.MustCompile(`^[0-9a-f]*[a-f][0-9a-f]*$`)
	hexUpper  = regexp.MustCompile(`^[0-9A-F]*[A-F][0-9A-F]*$`)
	uuidID    = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// idFormat names the profile id format that all ids fit ("" when they fit
// none, or disagree). Decimal-looking ids could be hex without a letter, so
// one id with a letter makes the set hex.
func idFormat(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	seen := map[string]bool{}
	for _, id := range ids {
		switch {
		case uuidID.MatchString(id):
			seen["uuid"] = true
		case decimalID.MatchString(id):
			seen["digits"] = true
		case hexLower.MatchString(id):
			seen["hex"] = true
		case hexUpper.MatchString(id):
			seen["HEX"] = true
		default:
			return ""
		}
	}
	switch {
	case len(seen) == 1 && seen["digits"]:
		return "decimal"
	case len(seen) == 1 && seen["uuid"]:
		return "uuid"
	case !seen["uuid"] && seen["hex"] && !seen["HEX"]:
		return "hex"
	case !seen["uuid"] && seen["HEX"] && !seen["hex"]:
		return "HEX"
	}
	return ""
}

// idKeys are the spellings under which a receipt may name a message: the id
// itself, and the same number in decimal or hex (SMSCs that answer in hex
// and report in decimal, or the reverse).
func idKeys(id string) []string {
	keys := []string{id}
	if decimalID.MatchString(id) {
		if n, err := strconv.ParseUint(id, 10, 64); err == nil {
			keys = append(keys, strconv.FormatUint(n, 16))
		}
	} else if n, err := strconv.ParseUint(id, 16, 64); err == nil {
		keys = append(keys, strconv.FormatUint(n, 10))
	}
	return keys
}
