package profile

import "sort"

// Style is a named MNO style: a profile that reproduces one family of SMSCs'
// habits, picked with `style: name`. README.md lists them with the same YAML
// (a test holds the two to each other).
type Style struct {
	Description string
	Profile     Profile
}

func b(v byte) *byte { return &v }

// styles is the catalogue. Each one changes as little as it can beside the
// defaults, so that a test failing against it points at one habit.
var styles = map[string]Style{
	"textbook": {
		Description: "SMPP 3.4 Appendix B receipts in deliver_sm, esm_class 0x04, text and TLVs, decimal ids",
		Profile:     Profile{},
	},
	"kannel-smppbox": {
		Description: "Kannel's smppbox: intermediate BUFFRED then ACKED receipts (esm_class 0x04) before the final one",
		Profile:     Profile{Receipt: Receipt{Intermediate: []string{"BUFFRED", "ACKED"}}},
	},
	"jasmin-accepted-first": {
		Description: "Jasmin's SMPP server: an ACCEPTD receipt as soon as the message is accepted, then the final one (jookies/jasmin#885)",
		Profile:     Profile{Receipt: Receipt{Intermediate: []string{"ACCEPTD"}}},
	},
	"spec-intermediate": {
		Description: "SMPP 5.0 style intermediate notifications: SCHEDULED then ENROUTE with esm_class 0x20, then the final receipt",
		Profile:     Profile{Receipt: Receipt{Intermediate: []string{"SCHEDULED", "ENROUTE"}, IntermediateESMClass: b(0x20)}},
	},
	"data-sm-receipts": {
		Description: "receipts in data_sm: the text in message_payload, the TLVs beside it (Jasmin's SMPP server sends receipts this way, jookies/jasmin#139)",
		Profile:     Profile{Receipt: Receipt{PDU: PDUDataSM}},
	},
	"ucs2-receipts": {
		Description: "receipt text in UCS2 (data_coding 8, UTF-16BE)",
		Profile:     Profile{Receipt: Receipt{DataCoding: 8}},
	},
	"bare-status": {
		Description: "the status word without its stat: key, text only (no TLVs to fall back on)",
		Profile:     Profile{Receipt: Receipt{Text: "bare", Carry: CarryText}},
	},
	"esm0-receipts": {
		Description: "receipts with esm_class 0 and text only: nothing but the text tells them from an MO",
		Profile:     Profile{Receipt: Receipt{ESMClass: b(0), Carry: CarryText}},
	},
	"latin1-mo": {
		Description: "data_coding 0 is ISO-8859-1: MO (single and multipart) and receipt text in Latin-1",
		Profile:     Profile{DataCoding0: "latin1"},
	},
	"hex-in-resp-decimal-in-receipt": {
		Description: "message id in hex in submit_sm_resp and in decimal in the receipt (Nexmo/Vonage's documented SMPP behaviour)",
		Profile:     Profile{MessageID: IDFormat{Format: IDHexLower}, ReceiptMessageID: &IDFormat{Format: IDDecimal}},
	},
	"tlv-only-last-part": {
		Description: "receipts as TLVs only (empty short_message), and only for the last part of a long message",
		Profile:     Profile{Receipt: Receipt{Carry: CarryTLV, Parts: PartsLast}},
	},
}

// Styles returns the catalogue of named styles.
func Styles() map[string]Style {
	out := make(map[string]Style, len(styles))
	for k, v := range styles {
		out[k] = v
	}
	return out
}

// StyleNames lists the styles' names, sorted.
func StyleNames() []string {
	out := make([]string, 0, len(styles))
	for k := range styles {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// overlay is base with every field that over sets replacing base's. A field
// is set when it is not its zero value (a nil pointer or slice is unset; an
// empty list, `intermediate: []`, is set, and turns the style's off).
func overlay(base, over Profile) Profile {
	out := base
	out.Style = over.Style
	if over.Name != "" {
		out.Name = over.Name
	} else if out.Name == "" {
		out.Name = over.Style
	}
	if over.MessageID != (IDFormat{}) {
		out.MessageID = over.MessageID
	}
	if over.ReceiptMessageID != nil {
		out.ReceiptMessageID = over.ReceiptMessageID
	}
	if over.DataCoding0 != "" {
		out.DataCoding0 = over.DataCoding0
	}
	if over.EnquireLinkInterval.D != 0 {
		out.EnquireLinkInterval = over.EnquireLinkInterval
	}
	if over.IdleTimeout.D != 0 {
		out.IdleTimeout = over.IdleTimeout
	}
	r, o := &out.Receipt, over.Receipt
	if o.Carry != "" {
		r.Carry = o.Carry
	}
	if o.Text != "" {
		r.Text = o.Text
	}
	if o.ESMClass != nil {
		r.ESMClass = o.ESMClass
	}
	if o.Parts != "" {
		r.Parts = o.Parts
	}
	if o.PDU != "" {
		r.PDU = o.PDU
	}
	if o.DataCoding != 0 {
		r.DataCoding = o.DataCoding
	}
	if o.Intermediate != nil {
		r.Intermediate = o.Intermediate
	}
	if o.IntermediateESMClass != nil {
		r.IntermediateESMClass = o.IntermediateESMClass
	}
	return out
}
