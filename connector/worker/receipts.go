package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/events"
	"github.com/smpp-connector/smpp-connector/connector/segment"
	"github.com/smpp-connector/smpp-connector/connector/store"
)

// storeTimeout bounds the work done for one deliver_sm before it is answered.
const storeTimeout = 10 * time.Second

// HandleDeliver is the session's deliver_sm handler: it stores a receipt (or
// publishes an MO) before the deliver_sm_resp goes back, and answers
// ESME_RX_T_APPN when it could not, so the SMSC delivers it again.
func (w *Worker) HandleDeliver(d *pdu.DeliverSM) data.CommandStatusType {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	tlvs := make(map[uint16][]byte, len(d.OptionalParameters))
	for tag, f := range d.OptionalParameters {
		tlvs[uint16(tag)] = f.Data
	}
	msg, _ := d.Message.GetMessageData()
	if !dlr.IsReceipt(d.EsmClass, tlvs) {
		return w.handleMO(ctx, d)
	}
	m := w.d.Metrics
	r, err := dlr.Parse(dlr.Input{EsmClass: d.EsmClass, ShortMessage: msg, TLVs: tlvs})
	if err != nil {
		// Retrying cannot fix it: count it, log it, and let the SMSC move on.
		m.Receipts.WithLabelValues(w.op.ID, "invalid").Inc()
		w.log.Warn("unreadable receipt", "err", err, "text", string(msg))
		return data.ESME_ROK
	}
	key, err := w.op.IDRule.Key(r.ID, true)
	if err != nil {
		w.log.Warn("receipt id does not fit the operator's id format; matched as is", "id", r.ID, "err", err)
		key = r.ID
	}
	rc := store.Receipt{OperatorID: w.op.ID, SMSCKey: key, RawID: r.ID, Status: r.Status, Stat: r.Stat, Err: r.Err,
		Done: r.Done, Received: time.Now(), Raw: string(msg)}
	matched, err := w.d.Store.MatchReceipt(ctx, rc)
	if err != nil {
		w.log.Error("store receipt; asking the SMSC to deliver it again", "id", r.ID, "err", err)
		return data.ESME_RX_T_APPN
	}
	switch matched.Disposition {
	case store.Applied, store.Duplicate:
		// A duplicate is published again: the first attempt may have failed
		// after the store. The event's message id lets JetStream drop repeats.
		result := "matched"
		if matched.Disposition == store.Duplicate {
			result = "duplicate"
		}
		m.Receipts.WithLabelValues(w.op.ID, result).Inc()
		if err := w.publishReceipt(ctx, matched, rc); err != nil {
			return data.ESME_RX_T_APPN // stored but not published: the SMSC delivers it again
		}
	case store.Held:
		m.Receipts.WithLabelValues(w.op.ID, "held").Inc()
		w.log.Debug("receipt before its submit_sm_resp: held", "id", r.ID)
	default:
		m.Receipts.WithLabelValues(w.op.ID, "stale").Inc()
	}
	return data.ESME_ROK
}

// publishReceipt publishes a matched receipt, following the operator's rule
// for multipart messages: every part's receipt (each), or only the first or
// the last part's, which then stands for the message.
func (w *Worker) publishReceipt(ctx context.Context, mt store.Matched, rc store.Receipt) error {
	if mt.PartCount > 1 {
		switch w.op.ReceiptParts {
		case "first":
			if mt.Part != 1 {
				return nil
			}
		case "last":
			if mt.Part != mt.PartCount {
				return nil
			}
		}
	}
	ev := events.Receipt{MessageID: mt.MessageID, OperatorID: w.op.ID, SMSCMessageID: rc.RawID, Status: rc.Status,
		Stat: rc.Stat, Err: rc.Err, PartNumber: mt.Part, PartCount: mt.PartCount, PartsReceived: mt.PartsWithReceipt,
		SubmittedAt: mt.SubmittedAt, DoneAt: rc.Done, ReceivedAt: rc.Received.UTC()}
	if !mt.SubmittedAt.IsZero() {
		w.d.Metrics.ReceiptLatency.WithLabelValues(w.op.ID).Observe(rc.Received.Sub(mt.SubmittedAt).Seconds())
	}
	if err := w.d.Events.Receipt(ctx, ev); err != nil {
		w.d.Metrics.PublishErrors.WithLabelValues("receipt").Inc()
		w.log.Error("publish receipt", "message_id", mt.MessageID, "err", err)
		return err
	}
	return nil
}

// handleMO publishes an MO message. The parts of a segmented one are stored
// before they are answered, so a restart mid-message loses none, and the
// message is published when its last part arrives; its parts are kept until
// the publish succeeds (the SMSC delivers the last part again meanwhile).
func (w *Worker) handleMO(ctx context.Context, d *pdu.DeliverSM) data.CommandStatusType {
	part := segment.FromShortMessage(d.EsmClass, &d.Message, d.OptionalParameters)
	src, dst := d.SourceAddr.Address(), d.DestAddr.Address()
	ref, total, seq, segmented, err := segment.Concat(part)
	var payload []byte
	if err == nil {
		payload, err = segment.Payload(part)
	}
	if err != nil {
		// Redelivering it cannot help: count, log, move on.
		w.d.Metrics.MOInvalid.WithLabelValues(w.op.ID).Inc()
		w.log.Warn("unreadable MO part", "from", src, "err", err)
		return data.ESME_ROK
	}
	ev := events.MO{OperatorID: w.op.ID, Source: src, Destination: dst, Parts: 1, ReceivedAt: time.Now().UTC()}
	var msg store.MOMessage
	if segmented && total > 1 {
		key := store.MOKey{OperatorID: w.op.ID, Source: src, Destination: dst, Ref: ref, Total: total}
		res, err := w.d.Store.AddMOPart(ctx, key, store.MOPart{Seq: seq, DataCoding: part.DataCoding, Octets: payload})
		if errors.Is(err, store.ErrInvalid) {
			w.d.Metrics.MOInvalid.WithLabelValues(w.op.ID).Inc()
			w.log.Warn("MO part cannot be stored", "from", src, "ref", ref, "part", seq, "err", err)
			return data.ESME_ROK
		}
		if err != nil {
			w.log.Error("store MO part; asking the SMSC to deliver it again", "from", src, "ref", ref, "part", seq, "err", err)
			return data.ESME_RX_T_APPN
		}
		if res.Abandoned > 0 {
			w.d.Metrics.MOIncomplete.WithLabelValues(w.op.ID).Inc()
			w.log.Warn("MO message never completed: a new one reuses its reference", "from", src, "to", dst, "ref", ref,
				"parts_received", res.Abandoned, "parts", total)
		}
		if res.Duplicate {
			w.log.Debug("MO part of a message already published: dropped", "from", src, "ref", ref, "part", seq)
			return data.ESME_ROK
		}
		if !res.Complete {
			return data.ESME_ROK
		}
		msg = res.Message
		frags := make([]segment.Fragment, len(msg.Parts))
		for i, p := range msg.Parts {
			frags[i] = segment.Fragment{DataCoding: p.DataCoding, Octets: p.Octets}
		}
		ev.Text, err = segment.Join(frags, w.op.Profile.DataCoding0)
		if err != nil {
			w.d.Metrics.MOInvalid.WithLabelValues(w.op.ID).Inc()
			w.log.Warn("undecodable MO message dropped", "from", src, "ref", ref, "parts", total, "err", err)
			w.markPublished(ctx, msg)
			return data.ESME_ROK
		}
		ev.Parts = total
		ev.ID = fmt.Sprintf("mo:%s:%s:%s:%d:%d:%d", w.op.ID, src, dst, ref, total, msg.FirstReceipt.UnixMicro())
	} else if ev.Text, err = segment.Decode(part.DataCoding, payload, w.op.Profile.DataCoding0); err != nil {
		w.d.Metrics.MOInvalid.WithLabelValues(w.op.ID).Inc()
		w.log.Warn("undecodable MO dropped", "from", src, "err", err)
		return data.ESME_ROK
	}
	if err := w.d.Events.MO(ctx, ev); err != nil {
		w.d.Metrics.PublishErrors.WithLabelValues("mo").Inc()
		w.log.Error("publish MO; asking the SMSC to deliver it again", "from", src, "err", err)
		return data.ESME_RX_T_APPN
	}
	if ev.ID != "" {
		w.markPublished(ctx, msg)
	}
	w.d.Metrics.MO.WithLabelValues(w.op.ID).Inc()
	return data.ESME_ROK
}

// markPublished marks a published message's parts, so that late copies of
// them are dropped. If that fails a late copy starts a message that never
// completes: expired later, and counted then.
func (w *Worker) markPublished(ctx context.Context, m store.MOMessage) {
	if err := w.d.Store.MarkMOPublished(ctx, m); err != nil {
		w.log.Warn("MO published but not marked so", "from", m.Key.Source, "ref", m.Key.Ref, "err", err)
	}
}
