package faults

import (
	"fmt"

	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	dlr "github.com/smpp-connector/smpp-connector/smscsim/receipt"
)

// ReceiptStyle overrides how the operator's profile renders a final receipt,
// for one receipt: a receipt_script sets it so that receipts look like the
// ones of a recorded SMSC (their text template, esm_class, TLVs) while
// carrying the simulator's own message ids. Unset fields keep the profile's.
type ReceiptStyle struct {
	// Template is the short_message text with placeholders (receipt.CheckTemplate:
	// {id} {stat} {err} {dlvrd} {text} {submit10} {done10} {submit12} {done12}).
	// Empty with TLVs set means no text at all.
	Template string `json:"template,omitempty"`
	// ESMClass of the receipt deliver_sm.
	ESMClass *byte `json:"esmClass,omitempty"`
	// TLVs lists the receipt TLVs sent, in order: receipted_message_id,
	// message_state, network_error_code. Nil keeps the profile's; empty sends none.
	TLVs []string `json:"tlvs"`
	// DataCoding of the text: 0, 3 (Latin-1) or 8 (UCS2).
	DataCoding byte `json:"dataCoding,omitempty"`
	// IDFormat renders the message id inside the receipt (decimal, hex, HEX,
	// padded, uuid, long_hex); empty keeps the profile's receipt id format.
	IDFormat string `json:"idFormat,omitempty"`
}

// Receipt TLV names a style may list.
const (
	TLVReceiptedMessageID = "receipted_message_id"
	TLVMessageState       = "message_state"
	TLVNetworkErrorCode   = "network_error_code"
)

// Validate names the first invalid field (under "style.").
func (s *ReceiptStyle) Validate() error {
	if err := dlr.CheckTemplate(s.Template); err != nil {
		return paramErr("style.template", "%v", err)
	}
	for i, t := range s.TLVs {
		switch t {
		case TLVReceiptedMessageID, TLVMessageState, TLVNetworkErrorCode:
		default:
			return paramErr(fmt.Sprintf("style.tlvs[%d]", i), "want receipted_message_id, message_state or network_error_code, got %q", t)
		}
	}
	switch s.DataCoding {
	case 0, 3, 8:
	default:
		return paramErr("style.dataCoding", "want 0, 3 or 8, got %d", s.DataCoding)
	}
	if s.IDFormat != "" {
		if err := (profile.IDFormat{Format: s.IDFormat}).Validate(); err != nil {
			return paramErr("style.idFormat", "%v", err)
		}
	}
	return nil
}
