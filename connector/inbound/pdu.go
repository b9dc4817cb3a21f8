package inbound

import (
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/connector/segment"
)

// PDU kinds an SMSC delivers receipts and MO in.
const (
	kindDeliverSM = "deliver_sm"
	kindDataSM    = "data_sm"
)

// incoming is what the handler reads of a deliver_sm or a data_sm: SMSCs
// send receipts and MO in either (SMPP 3.4 4.6 and 4.7), and both go through
// the same path, so that a style carried by data_sm is handled exactly as
// the same style in deliver_sm.
type incoming struct {
	kind       string
	esmClass   byte
	dataCoding byte
	// dataCodingUnknown: a deliver_sm's data_coding is one gosmpp does not
	// know (it keeps no trace of its value, and part.DataCoding reads 0).
	dataCodingUnknown bool
	src, dst          string
	// part is the message as segment reads it: short_message (its UDH
	// included) for a deliver_sm, nothing for a data_sm (its text is in
	// message_payload, among the TLVs).
	part segment.Part
	tlvs map[uint16][]byte
}

// fromDeliverSM reads a deliver_sm.
func fromDeliverSM(d *pdu.DeliverSM) incoming {
	in := incoming{kind: kindDeliverSM, esmClass: d.EsmClass, src: d.SourceAddr.Address(), dst: d.DestAddr.Address(),
		part: segment.FromShortMessage(d.EsmClass, &d.Message, d.OptionalParameters), tlvs: tlvMap(d.OptionalParameters)}
	in.dataCoding = in.part.DataCoding
	in.dataCodingUnknown = d.Message.Encoding() == nil
	return in
}

// fromDataSM reads a data_sm: it has no short_message; its text is in
// message_payload (with its UDH when esm_class has UDHI set), or spread over
// parts by the sar_* TLVs.
func fromDataSM(d *pdu.DataSM) incoming {
	in := incoming{kind: kindDataSM, esmClass: d.EsmClass, dataCoding: d.DataCoding, src: d.SourceAddr.Address(),
		dst: d.DestAddr.Address(), tlvs: tlvMap(d.OptionalParameters)}
	in.part = segment.Part{EsmClass: d.EsmClass, DataCoding: d.DataCoding}
	for _, tag := range []uint16{segment.TagSarMsgRefNum, segment.TagSarTotalSegments, segment.TagSarSegmentSeqnum, segment.TagMessagePayload} {
		if v, ok := in.tlvs[tag]; ok {
			in.part.TLVs = append(in.part.TLVs, segment.TLV{Tag: tag, Value: v})
		}
	}
	return in
}

// text is the receipt text's octets: short_message without a UDH. (The
// receipt parser falls back to message_payload when it is empty.)
func (in incoming) text() []byte {
	if in.kind == kindDataSM {
		return nil
	}
	if in.esmClass&segment.EsmClassUDHI == 0 {
		return in.part.Message
	}
	if b, err := segment.Payload(in.part); err == nil {
		return b
	}
	return in.part.Message
}

func tlvMap(fields map[pdu.Tag]pdu.Field) map[uint16][]byte {
	m := make(map[uint16][]byte, len(fields))
	for tag, f := range fields {
		m[uint16(tag)] = f.Data
	}
	return m
}

// concatenated reports whether the PDU is a part of a concatenated message:
// its esm_class has UDHI set, or it carries any of the SAR TLVs. Such a part
// is never taken for a receipt by its text alone (the quirk
// ReceiptsWithEsmClass0): a part of a subscriber's long MO may well hold a
// receipt's words, and taking it for one would lose the whole message. A
// receipt that comes segmented says so by its esm_class or
// receipted_message_id.
func (in incoming) concatenated() bool {
	if in.esmClass&segment.EsmClassUDHI != 0 {
		return true
	}
	for _, tag := range []uint16{segment.TagSarMsgRefNum, segment.TagSarTotalSegments, segment.TagSarSegmentSeqnum} {
		if _, ok := in.tlvs[tag]; ok {
			return true
		}
	}
	return false
}
