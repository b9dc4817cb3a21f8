package segment

import "github.com/linxGnu/gosmpp/pdu"

// FromShortMessage rebuilds the Part a submit_sm or deliver_sm carried, as
// parsed by gosmpp: gosmpp strips the UDH from the text, so it is put back,
// and the segmentation TLVs (SAR, message_payload) are copied in order.
func FromShortMessage(esmClass byte, sm *pdu.ShortMessage, tlvs map[pdu.Tag]pdu.Field) Part {
	msg, _ := sm.GetMessageData()
	if udh := sm.UDH(); len(udh) > 0 {
		if b, err := udh.MarshalBinary(); err == nil {
			msg = append(b, msg...)
		}
	}
	p := Part{EsmClass: esmClass, Message: msg}
	if enc := sm.Encoding(); enc != nil { // nil for data_coding values gosmpp does not know
		p.DataCoding = enc.DataCoding()
	}
	for _, tag := range []uint16{TagSarMsgRefNum, TagSarTotalSegments, TagSarSegmentSeqnum, TagMessagePayload} {
		if f, ok := tlvs[pdu.Tag(tag)]; ok {
			p.TLVs = append(p.TLVs, TLV{Tag: tag, Value: f.Data})
		}
	}
	return p
}
