package server

import (
	"time"

	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/receipt"
	"github.com/smpp-connector/smpp-connector/smscsim/smstext"
	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// styledReceiptPDU renders a final receipt in a style a fault chose (a
// recorded SMSC's, receipt_script) on top of the profile's: what the style
// leaves unset comes from the profile, the message id is the simulator's.
func (op *Operator) styledReceiptPDU(m *message, stat, errc string, now time.Time, st *faults.ReceiptStyle) wire.DeliverSM {
	d := op.receiptPDU(m, stat, errc, now, false)
	idf := op.prof.ReceiptID()
	if st.IDFormat != "" {
		idf = profile.IDFormat{Format: st.IDFormat}
	}
	rid := idf.Render(m.num)
	if st.ESMClass != nil {
		d.EsmClass = *st.ESMClass
	}
	dc := op.prof.Receipt.DataCoding
	if st.DataCoding != 0 {
		dc = st.DataCoding
	}
	d.DataCoding = dc
	r := receipt.Receipt{ID: rid, Submitted: m.submitted, Done: now, Stat: stat, Err: errc, Original: m.text}
	if stat == receipt.Delivered {
		r.Dlvr = 1
	}
	prof := op.prof
	prof.Receipt.DataCoding = dc
	d.Message = nil
	if st.Template != "" {
		d.Message = smstext.EncodeLossy([]byte(r.RenderTemplate(st.Template)), receiptAlphabet(prof))
	}
	if st.TLVs != nil {
		d.TLVs = d.TLVs[:0:0]
		for _, name := range st.TLVs {
			switch name {
			case faults.TLVReceiptedMessageID:
				d.TLVs = append(d.TLVs, wire.TLV{Tag: uint16(pdu.TagReceiptedMessageID), Value: append([]byte(rid), 0)})
			case faults.TLVMessageState:
				d.TLVs = append(d.TLVs, wire.TLV{Tag: uint16(pdu.TagMessageStateOption), Value: []byte{receipt.MessageState(stat)}})
			case faults.TLVNetworkErrorCode:
				d.TLVs = append(d.TLVs, wire.TLV{Tag: uint16(pdu.TagNetworkErrorCode), Value: r.NetworkErrorCode()})
			}
		}
	} else {
		// The profile's TLVs, with the id in the style's format (and without
		// the payload the profile's own text may have moved there).
		kept := d.TLVs[:0:0]
		for _, t := range d.TLVs {
			switch t.Tag {
			case wire.TagMessagePayload:
				continue
			case uint16(pdu.TagReceiptedMessageID):
				t.Value = append([]byte(rid), 0)
			}
			kept = append(kept, t)
		}
		d.TLVs = kept
	}
	if !d.AsDataSM && len(d.Message) > maxShortMessage {
		d.TLVs = append([]wire.TLV{{Tag: wire.TagMessagePayload, Value: d.Message}}, d.TLVs...)
		d.Message = nil
	}
	return d
}
