package server

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
	"github.com/smpp-connector/smpp-connector/smscsim/smstext"
	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// reply is the simulator's own answer to a request, before faults change it.
type reply struct {
	resp   data.CommandIDType
	status data.CommandStatusType
	// encode builds the response for a final status; nil means header only.
	encode func(status data.CommandStatusType, seq int32) []byte
	msg    *message // accepted message (submit_sm, data_sm): receipts follow an OK
	close  bool     // close after answering (unbind)
	rec    recorder.Record
}

func (s *session) handleRequest(p pdu.PDU) {
	h := p.GetHeader()
	now := time.Now()
	st, acc := s.bound()
	var r reply
	dest := ""
	switch req := p.(type) {
	case *pdu.BindRequest:
		s.handleBind(req, now)
		return
	case *pdu.EnquireLink:
		r = reply{resp: data.ENQUIRE_LINK_RESP}
	case *pdu.Unbind:
		r = reply{resp: data.UNBIND_RESP, close: true}
		if st == stateOpen {
			r.status = data.ESME_RINVBNDSTS
			r.close = false
		}
	case *pdu.SubmitSM:
		dest = req.DestAddr.Address()
		r = s.submit(st, acc, now, submitFields{
			src: req.SourceAddr, dst: req.DestAddr, esm: req.EsmClass, regDlr: req.RegisteredDelivery,
			msg: req.Message, tlvs: req.OptionalParameters,
		}, data.SUBMIT_SM_RESP)
	case *pdu.DataSM:
		dest = req.DestAddr.Address()
		r = s.submit(st, acc, now, submitFields{
			src: req.SourceAddr, dst: req.DestAddr, esm: req.EsmClass, regDlr: req.RegisteredDelivery,
			tlvs: req.OptionalParameters, dataCoding: req.DataCoding, isData: true,
		}, data.DATA_SM_RESP)
	case *pdu.SubmitMulti:
		r = reply{resp: data.SUBMIT_MULTI_RESP}
		if !st.canSubmit() {
			r.status = data.ESME_RINVBNDSTS
		} else {
			s.op.sim.Meter.Arrive(meterKey(s.op.cfg.ID, acc.cfg.SystemID), now)
			id := s.op.prof.MessageID.Render(s.op.sim.msgNum.Add(1))
			r.encode = func(status data.CommandStatusType, seq int32) []byte {
				resp := pdu.NewSubmitMultiResp().(*pdu.SubmitMultiResp)
				resp.CommandStatus, resp.SequenceNumber = status, seq
				if status == data.ESME_ROK {
					resp.MessageID = id
				}
				return wire.Encode(resp)
			}
		}
	case *pdu.QuerySM:
		r = s.query(st, req)
	case *pdu.CancelSM:
		r = reply{resp: data.CANCEL_SM_RESP, status: data.ESME_RINVBNDSTS}
		if st.canSubmit() {
			r.status = s.op.cancel(req.MessageID, acc)
		}
	case *pdu.ReplaceSM:
		r = reply{resp: data.REPLACE_SM_RESP, status: data.ESME_RINVBNDSTS}
		if st.canSubmit() {
			text, _ := req.Message.GetMessageData()
			r.status = s.op.replace(req.MessageID, acc, text)
		}
	default:
		// deliver_sm, outbind, alert_notification...: not something an ESME sends.
		r = reply{resp: data.GENERIC_NACK, status: data.ESME_RINVCMDID}
	}
	ev := s.event(h, dest, now)
	ev.Status = r.status
	s.respond(&ev, &r)
}

type submitFields struct {
	src, dst   pdu.Address
	esm        byte
	regDlr     byte
	msg        pdu.ShortMessage
	tlvs       map[pdu.Tag]pdu.Field
	dataCoding byte
	isData     bool
}

// submit accepts a submit_sm or data_sm: the operator counts the arrival, gives
// it a message id and remembers it for receipts and query_sm.
func (s *session) submit(st bindState, acc *account, now time.Time, f submitFields, resp data.CommandIDType) reply {
	r := reply{resp: resp}
	r.rec = recorder.Record{Source: f.src.Address(), Dest: f.dst.Address(), EsmClass: f.esm, RegDlr: f.regDlr}
	if !st.canSubmit() {
		r.status = data.ESME_RINVBNDSTS
		return r
	}
	s.op.sim.Meter.Arrive(meterKey(s.op.cfg.ID, acc.cfg.SystemID), now)
	if f.regDlr&0x03 != 0 && acc.congested() {
		r.status = data.ESME_RMSGQFUL
		return r
	}

	// The part is rebuilt from the raw fields: gosmpp strips the UDH from
	// short_message, so it is put back before the simulator's own codec reads it.
	part := smstext.Part{EsmClass: f.esm, DataCoding: f.dataCoding}
	if !f.isData {
		part.Message, _ = f.msg.GetMessageData()
		if enc := f.msg.Encoding(); enc != nil { // nil for data_coding values gosmpp does not know
			part.DataCoding = enc.DataCoding()
		}
		if udh := f.msg.UDH(); len(udh) > 0 {
			if b, err := udh.MarshalBinary(); err == nil {
				r.rec.UDH = hex.EncodeToString(b)
				part.Message = append(b, part.Message...)
			}
		}
	}
	for _, tag := range []uint16{smstext.TagSarMsgRefNum, smstext.TagSarTotalSegments, smstext.TagSarSegmentSeqnum, smstext.TagMessagePayload} {
		if v, ok := f.tlvs[pdu.Tag(tag)]; ok {
			part.TLVs = append(part.TLVs, smstext.TLV{Tag: tag, Value: v.Data})
		}
	}
	for _, t := range part.TLVs {
		r.rec.TLVs = append(r.rec.TLVs, fmt.Sprintf("0x%04x=%x", t.Tag, t.Value))
	}
	r.rec.DataCoding = part.DataCoding
	m := &message{
		num: s.op.sim.msgNum.Add(1), account: acc.cfg.SystemID, src: f.src, dst: f.dst,
		regDlr: f.regDlr, submitted: now, state: "ENROUTE", part: 1, total: 1,
	}
	if _, total, seq, ok, err := smstext.Concat(part); err == nil && ok {
		m.part, m.total = seq, total
	}
	m.text = textOf(part, s.op.prof.DataCoding0)
	r.rec.Text = m.text
	m.id = s.op.prof.MessageID.Render(m.num)
	r.msg = m
	r.encode = func(status data.CommandStatusType, seq int32) []byte {
		return wire.MessageIDResp(make([]byte, 0, 48), resp, status, seq, m.id)
	}
	return r
}

// textOf is the text of one part as the simulator reads it, or the hex of
// its octets when it does not decode.
func textOf(p smstext.Part, dc0 string) string {
	txt, err := smstext.Text(p, dc0)
	if err != nil {
		octets, perr := smstext.Payload(p)
		if perr != nil {
			octets = p.Message
		}
		return hex.EncodeToString(octets)
	}
	return txt
}

func (s *session) query(st bindState, req *pdu.QuerySM) reply {
	// The body is sent on errors too: ESMEs (gosmpp among them) fail to parse a
	// body-less query_sm_resp.
	r := reply{resp: data.QUERY_SM_RESP, status: data.ESME_RINVBNDSTS}
	var m *message
	if st.canSubmit() {
		r.status = data.ESME_RQUERYFAIL
		if found, ok := s.op.store.get(req.MessageID); ok {
			r.status, m = data.ESME_ROK, found
		}
	}
	r.encode = func(status data.CommandStatusType, seq int32) []byte {
		resp := pdu.NewQuerySMResp().(*pdu.QuerySMResp)
		resp.CommandStatus, resp.SequenceNumber = status, seq
		if status == data.ESME_ROK && m != nil {
			state, done := m.snapshot()
			resp.MessageID, resp.MessageState = req.MessageID, stateByte(state)
			if !done.IsZero() {
				resp.FinalDate = done.UTC().Format("060102150405") + "000+"
			}
		}
		return wire.Encode(resp)
	}
	return r
}

// respond applies the faults to a reply and sends it.
func (s *session) respond(ev *faults.Event, r *reply) {
	act := faults.Action{}
	reg := s.op.sim.Faults
	if !reg.Empty() {
		reg.OnRequest(ev, &act)
	}
	status := r.status
	if act.Status != nil {
		status = *act.Status
	}
	var out []byte
	answered := "none"
	switch {
	case act.Drop:
	case act.Raw != nil:
		out, answered = act.Raw, "malformed"
	case act.GenericNack:
		if status == data.ESME_ROK {
			status = data.ESME_RTHROTTLED
		}
		out, answered = wire.GenericNack(status, ev.Sequence), "generic_nack "+wire.StatusName(status)
	case r.encode != nil:
		out, answered = r.encode(status, ev.Sequence), wire.StatusName(status)
	default:
		out, answered = wire.HeaderOnly(r.resp, status, ev.Sequence), wire.StatusName(status)
	}
	ok := out != nil && answered == wire.StatusName(data.ESME_ROK)
	cmd := wire.CommandName(ev.Command)
	s.op.sim.stats.add(s.op.cfg.ID, ev.Account, cmd, answered)

	rec := r.rec
	rec.Time, rec.Operator, rec.Account, rec.SessionID = ev.Now, ev.Operator, ev.Account, ev.SessionID
	rec.Command, rec.Sequence, rec.Faults = cmd, ev.Sequence, act.By
	if out != nil {
		rec.Status = answered
	}
	if ok && r.msg != nil {
		rec.MessageID = r.msg.id
	}
	s.op.sim.Recorder.Add(rec)

	var plan []plannedReceipt
	if ok && r.msg != nil {
		s.op.store.put(r.msg)
		plan = s.op.planReceipts(r.msg)
	}
	// Early receipts go out before the resp: straight down this bind when it
	// can receive, otherwise through the account queue with the resp held back.
	early := false
	var via *session
	if s.stateCanReceive() {
		via = s
	}
	for i := range plan {
		if plan[i].act.Early {
			early = true
			s.op.dispatchReceipt(&plan[i], via)
		}
	}
	delay := act.Delay
	if early && via == nil && delay < earlyLead {
		delay = earlyLead
	}
	finish := func() {
		if out != nil {
			// Answered before the bytes leave: the client may send its next
			// request the moment it reads this one, and must not find it
			// still counted against the window.
			s.outstanding.Add(-1)
			s.send(out)
		}
		for i := range plan {
			if !plan[i].act.Early {
				s.op.dispatchReceipt(&plan[i], nil)
			}
		}
		if act.Close || (r.close && out != nil) {
			s.close(closeReason(act.Close, r.close))
		}
	}
	if act.Drop && !act.Close {
		return // blackholed: the request stays outstanding for ever
	}
	if delay > 0 {
		time.AfterFunc(delay, finish)
		return
	}
	finish()
}

// earlyLead is how long a resp is held back so that an early receipt sent on
// another bind reaches the ESME first.
const earlyLead = 100 * time.Millisecond

func closeReason(byFault, unbind bool) string {
	if byFault {
		return "disconnected by fault"
	}
	return "unbind"
}

func (s *session) stateCanReceive() bool {
	st, _ := s.bound()
	return st.canReceive()
}

// handleBind checks the state, faults and credentials, in that order.
func (s *session) handleBind(req *pdu.BindRequest, now time.Time) {
	st, _ := s.bound()
	ev := s.event(req.GetHeader(), "", now)
	ev.Account = req.SystemID
	status := data.ESME_ROK
	var acc *account
	switch {
	case st != stateOpen:
		status = data.ESME_RALYBND
	default:
		acc, status = s.op.authenticate(req)
	}
	act := faults.Action{}
	if !s.op.sim.Faults.Empty() {
		s.op.sim.Faults.OnBind(&ev, &act)
	}
	if act.Status != nil && status == data.ESME_ROK {
		status = *act.Status
	}
	if act.GenericNack && status == data.ESME_ROK {
		status = data.ESME_RBINDFAIL
	}
	bindName := wire.CommandName(req.CommandID)
	rec := recorder.Record{Time: now, Operator: s.op.cfg.ID, Account: req.SystemID, SessionID: s.id,
		Command: bindName, Sequence: req.SequenceNumber, Faults: act.By}
	if act.Drop {
		s.op.sim.stats.add(s.op.cfg.ID, req.SystemID, bindName, "none")
		s.op.sim.Recorder.Add(rec)
		if act.Close {
			s.close("bind dropped by fault")
		}
		return
	}
	if status == data.ESME_ROK {
		if !acc.takeBind() {
			status = data.ESME_RALYBND
		} else {
			next := map[pdu.BindingType]bindState{pdu.Transmitter: stateTX, pdu.Receiver: stateRX, pdu.Transceiver: stateTRX}[req.BindingType]
			s.mu.Lock()
			s.state, s.acc, s.password = next, acc, req.Password
			s.mu.Unlock()
			s.op.sim.log.Info("bound", "operator", s.op.cfg.ID, "session", s.id, "account", req.SystemID, "type", next.String(), "remote", s.remote)
		}
	}
	resp := pdu.NewBindResp(*req)
	resp.CommandStatus = status
	out := wire.HeaderOnly(resp.CommandID, status, resp.SequenceNumber)
	switch {
	case status == data.ESME_ROK:
		resp.SystemID = s.op.cfg.SystemID
		resp.RegisterOptionalParam(pdu.Field{Tag: 0x0210, Data: []byte{0x34}}) // sc_interface_version
		out = wire.Encode(resp)
	case req.BindingType == pdu.Transceiver:
		// A failed bind_resp may omit system_id; gosmpp v0.3.1 insists on it
		// for transceivers and rejects it for the other two, so follow that.
		resp.SystemID = s.op.cfg.SystemID
		out = wire.Encode(resp)
	}
	rec.Status = wire.StatusName(status)
	s.op.sim.Recorder.Add(rec)
	s.op.sim.stats.add(s.op.cfg.ID, req.SystemID, bindName, rec.Status)
	s.outstanding.Add(-1)
	s.send(out)
	// Only now may deliver_sm flow: nothing may overtake the bind_resp.
	if st, _ := s.bound(); status == data.ESME_ROK && st.canReceive() {
		s.wg.Add(1)
		go s.pump(acc)
	}
	if act.Close {
		s.close("disconnected by fault")
	}
}

// authenticate checks system_id, password (any of the overlap set) and system_type.
func (op *Operator) authenticate(req *pdu.BindRequest) (*account, data.CommandStatusType) {
	acc, ok := op.accounts[req.SystemID]
	if !ok {
		return nil, data.ESME_RINVSYSID
	}
	good := false
	for _, p := range *acc.passwords.Load() {
		if p == req.Password {
			good = true
		}
	}
	if !good {
		return nil, data.ESME_RINVPASWD
	}
	if acc.cfg.SystemType != "" && acc.cfg.SystemType != req.SystemType {
		return nil, data.ESME_RINVSYSTYP
	}
	return acc, data.ESME_ROK
}

// takeBind reserves one of the account's binds.
func (a *account) takeBind() bool {
	for {
		n := a.binds.Load()
		if a.cfg.MaxBinds > 0 && int(n) >= a.cfg.MaxBinds {
			return false
		}
		if a.binds.CompareAndSwap(n, n+1) {
			return true
		}
	}
}
