package inbound

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/linxGnu/gosmpp/data"

	"github.com/smpp-connector/smpp-connector/connector/events"
	"github.com/smpp-connector/smpp-connector/connector/segment"
	"github.com/smpp-connector/smpp-connector/connector/store"
)

// moRead is an MO part as read, before anything is stored: its
// segmentation, and its octets without the UDH.
type moRead struct {
	part       segment.Part
	payload    []byte
	ref        uint16
	total, seq int
	segmented  bool
	malformed  error // the UDH or SAR TLVs cannot be read: the part goes out alone, raw
	src, dst   string
}

// readMO reads an MO part. It never fails: a part whose segmentation is
// malformed is published on its own with its raw octets (moRead.malformed),
// since no other part can ever complete it.
func readMO(in incoming) moRead {
	r := moRead{part: in.part, src: in.src, dst: in.dst}
	var err error
	r.ref, r.total, r.seq, r.segmented, err = segment.Concat(in.part)
	if err == nil {
		r.payload, err = segment.Payload(in.part)
	}
	if err == nil && in.dataCodingUnknown {
		// gosmpp keeps no trace of a data_coding it does not know: its
		// parts could not be joined or decoded faithfully.
		err = errUnknownDataCoding
	}
	if err != nil {
		r.malformed, r.segmented = err, false
		r.payload = rawOctets(in.part)
	}
	return r
}

// errUnknownDataCoding: the data_coding is not one the SMPP library reads.
var errUnknownDataCoding = errors.New("data_coding is not one the connector reads (0-4, 6-8); its value is lost")

// rawOctets is a part's user data as it came (UDH included).
func rawOctets(p segment.Part) []byte {
	if v, ok := p.TLV(segment.TagMessagePayload); ok {
		return v
	}
	return p.Message
}

// handleMO publishes an MO message. The parts of a segmented one are stored
// before they are answered, so a restart mid-message loses none, and the
// message is published when its last part arrives; its parts are kept until
// the publish succeeds (the SMSC delivers the last part again meanwhile).
// Nothing is dropped for its content: a text that cannot be decoded, or a
// part whose segmentation cannot be read, is published with its octets and
// the reason (events.MO.Undecodable), and counted in smpp_mo_invalid_total.
func (h *Handler) handleMO(ctx context.Context, r moRead) data.CommandStatusType {
	ev := events.MO{OperatorID: h.op.ID, Source: r.src, Destination: r.dst, Parts: 1, ReceivedAt: time.Now().UTC()}
	var msg store.MOMessage
	switch {
	case errors.Is(r.malformed, errUnknownDataCoding):
		h.undecodable(&ev, r.part.DataCoding, r.payload, r.malformed)
		ev.DataCoding = nil // unknown, not 0
	case r.malformed != nil:
		h.undecodable(&ev, r.part.DataCoding, r.payload, fmt.Errorf("segmentation: %w", r.malformed))
	case r.segmented && r.total > 1:
		key := store.MOKey{OperatorID: h.op.ID, Source: r.src, Destination: r.dst, Ref: r.ref, Total: r.total}
		res, err := h.d.Store.AddMOPart(ctx, key, store.MOPart{Seq: r.seq, DataCoding: r.part.DataCoding, Octets: r.payload})
		if errors.Is(err, store.ErrInvalid) {
			// The store cannot keep it for reassembly (its addresses are
			// not valid text): out on its own rather than lost.
			h.undecodable(&ev, r.part.DataCoding, r.payload, fmt.Errorf("part %d/%d of ref %d cannot be stored for reassembly: %w", r.seq, r.total, r.ref, err))
			break
		}
		if err != nil {
			h.log.Error("store MO part; asking the SMSC to deliver it again", "from", r.src, "ref", r.ref, "part", r.seq, "err", err)
			return data.ESME_RX_T_APPN
		}
		if res.Abandoned > 0 {
			h.d.Metrics.MOIncomplete.WithLabelValues(h.op.ID).Inc()
			h.log.Warn("MO message never completed: a new one reuses its reference", "from", r.src, "to", r.dst, "ref", r.ref,
				"parts_received", res.Abandoned, "parts", r.total)
		}
		if res.Duplicate {
			h.log.Debug("MO part of a message already published: dropped", "from", r.src, "ref", r.ref, "part", r.seq)
			return data.ESME_ROK
		}
		if !res.Complete {
			return data.ESME_ROK
		}
		msg = res.Message
		ev.Parts = r.total
		ev.ID = fmt.Sprintf("mo:%s:%s:%s:%d:%d:%d", h.op.ID, r.src, r.dst, r.ref, r.total, msg.FirstReceipt.UnixMicro())
		frags := make([]segment.Fragment, len(msg.Parts))
		var all []byte
		for i, p := range msg.Parts {
			frags[i] = segment.Fragment{DataCoding: p.DataCoding, Octets: p.Octets}
			all = append(all, p.Octets...)
		}
		var err2 error
		if ev.Text, err2 = segment.Join(frags, h.op.DataCoding0); err2 != nil {
			h.undecodable(&ev, msg.Parts[0].DataCoding, all, err2)
		}
	default:
		var err error
		if ev.Text, err = segment.Decode(r.part.DataCoding, r.payload, h.op.DataCoding0); err != nil {
			h.undecodable(&ev, r.part.DataCoding, r.payload, err)
		}
	}
	if err := h.d.Events.MO(ctx, ev); err != nil {
		h.d.Metrics.PublishErrors.WithLabelValues("mo").Inc()
		h.log.Error("publish MO; asking the SMSC to deliver it again", "from", r.src, "err", err)
		return data.ESME_RX_T_APPN
	}
	if ev.ID != "" {
		h.markPublished(ctx, msg)
	}
	h.d.Metrics.MO.WithLabelValues(h.op.ID).Inc()
	return data.ESME_ROK
}

// undecodable marks ev as an MO published with its raw octets, counts and
// logs it.
func (h *Handler) undecodable(ev *events.MO, dataCoding byte, octets []byte, why error) {
	ev.Undecodable(dataCoding, octets, why)
	h.d.Metrics.MOInvalid.WithLabelValues(h.op.ID).Inc()
	h.log.Warn("MO text cannot be decoded: published with its octets", "from", ev.Source, "to", ev.Destination,
		"data_coding", dataCoding, "err", why)
}
