// Package dlr parses and normalises SMPP delivery receipts (deliver_sm /
// data_sm carrying a receipt) as operators actually send them, and turns the
// SMSC message ids found in submit_sm_resp and in receipts into one comparable
// key. README.md lists every receipt style accepted, with an example of each
// and the SMSCs that send it; a test parses every example.
//
// # Where a receipt's fields come from
//
// Parse reads the receipt TLVs first, then the short_message text (or the
// message_payload TLV when short_message is empty), decoded by the PDU's
// data_coding (Input.DataCoding; Input.DataCoding0 says what data_coding 0
// means for the operator: gsm7, latin1 or ascii). Octets that do not decode
// are read as they are, and ASCII labelled UCS2 is read as ASCII
// (Receipt.DecodeNote says so): see readText.
//
//   - ID: receipted_message_id (0x001E; a C-string, the NUL may be missing)
//     when present and non-blank, otherwise the text's "id:". A receipt without
//     either is an error (wrapping ErrNoID). When both are present and differ,
//     the TLV wins and Receipt.Conflict says so: some operators put the id in
//     a different format in the text than in the TLV.
//   - Stat (raw, ASCII letters upper-cased): the text's "stat:", otherwise a
//     bare status word of the text (Receipt.BareStat), otherwise the name of
//     message_state (0x0427; 0 SCHEDULED .. 9 SKIPPED).
//   - Status (normalised, status.go): from message_state when it holds a
//     definite state (1..8 except 7 UNKNOWN), otherwise from the text's stat,
//     otherwise UNKNOWN. message_state 0 (SMPP 5.0 SCHEDULED) is ENROUTE
//     unless the text has a known stat, which then wins. Normalize maps the
//     Appendix B stats, the message_state names and what real SMSCs send
//     instead (BUFFRED, BUFFERD, SCHEDLD: ENROUTE; ACKED: ACCEPTED; FAILED:
//     UNDELIVERABLE), anything else to UNKNOWN. A text stat that contradicts
//     message_state is reported in Conflict.
//   - Err: the text's "err:" before text:, otherwise the error code of
//     network_error_code (0x0423: network type, 2-byte code) as at least
//     three decimal digits, or as written when the SMSC sent three ASCII
//     digits, otherwise an "err:" after text: (which may be the
//     subscriber's, so the TLV wins over it); the TLV's bytes are always
//     kept in NetworkError.
//   - Final: the status ends the message's life (everything but ACCEPTED and
//     ENROUTE), and the esm_class is not an intermediate delivery notification.
//
// # The receipt text
//
// The de-facto format of SMPP 3.4 Appendix B,
//
//	id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text:...
//
// is read leniently: keys in any case, any amount of white space around keys,
// colons and values, "submit date" also as submit_date or submitdate (same for
// done date), "dlvr" for dlvrd, "error" for err, fields in any order, unknown
// keys ignored, any field may be missing except that some id must be found.
// A value is the first white-space-delimited token after its key (an empty
// value is allowed when the next known key follows). "text:" takes the rest of
// the message, spaces and colons included, but for the receipt fields some
// SMSCs write after it ("... stat:DELIVRD text:hello err:000"): a run of
// well-formed sub:, dlvrd:, submit date:, done date: or err: fields
// that ends the message, of keys not read before text:, is read as fields
// (never an id: nor a stat:, which could only be the subscriber's; see
// afterText). The first token outside text: that is a known status word in
// capitals (DELIVRD, UNDELIV, BUFFRED, ...) stands for the stat when there
// is no "stat:" ("DELIVRD", "id:123 DELIVRD", "... done date:2412011201
// DELIVRD err:000"), whatever surrounds it: the receipt's shape matters
// only to LooksLikeReceipt. Dates of 10 (YYMMDDhhmm), 12 (YYMMDDhhmmss) or
// 14 (YYYYMMDDhhmmss) digits are read as UTC, two-digit years as 20YY, SMPP
// absolute times (YYMMDDhhmmsstnnp) are converted to UTC, and a date's
// value takes the time written after it ("submit date:24/12/01 12:00",
// "2024-12-01 12:00:00": year first, read as UTC); a date that does not
// parse is kept raw (SubmittedRaw, DoneRaw) and reported as the zero time,
// not as an error. sub and dlvrd are decimal numbers (0 when absent or not
// a number).
//
// LooksLikeReceipt says whether a text without a receipt esm_class is a
// receipt all the same (an operator quirk, off by default): see looks.go.
//
// # Message ids
//
// An IDRule says how an operator writes ids in submit_sm_resp (Resp) and in
// receipts (Receipt); IDRule.Key maps either to the same key. Numeric formats
// (decimal, hex in any letter case) become the decimal value without leading
// zeros, so "00012D687" (hex) and "1234567" (decimal) are one message; raw
// ids are only trimmed of white space and NULs; uuids are lower-cased and
// written 8-4-4-4-12.
//
// # Files
//
// dlr.go reads a receipt's TLVs and decides its fields (Parse), decode.go
// decodes the text by data_coding, text.go is the receipt text grammar,
// looks.go recognises a receipt by its text alone, status.go the status
// vocabulary (Status, the stat and message_state mappings: the connector's
// one list of receipt statuses, stored and published as they are), id.go
// the message id keys.
package dlr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TLV tags read by Parse.
const (
	TagReceiptedMessageID uint16 = 0x001E
	TagNetworkErrorCode   uint16 = 0x0423
	TagMessagePayload     uint16 = 0x0424
	TagMessageState       uint16 = 0x0427
)

// esm_class message type bits (SMPP 3.4 5.2.12, bits 5..2).
const (
	esmTypeMask         = 0x3C
	EsmSMSCReceipt      = 0x04 // SMSC delivery receipt
	EsmSMEDeliveryAck   = 0x08 // SME delivery acknowledgement
	EsmSMEManualAck     = 0x10 // SME manual/user acknowledgement
	EsmIntermediateNote = 0x20 // intermediate delivery notification
)

// Source values of Receipt.Source.
const (
	SourceTLV  = "tlv"
	SourceText = "text"
	SourceBoth = "both"
)

// ErrNoID is wrapped by Parse's error when the receipt carries no message id.
var ErrNoID = errors.New("no message id")

// Input is what Parse needs of a deliver_sm or data_sm.
type Input struct {
	EsmClass byte
	// DataCoding is the PDU's data_coding: the receipt text (short_message
	// or message_payload) is decoded by it before it is parsed.
	DataCoding byte
	// DataCoding0 is what data_coding 0 means for this operator: "gsm7"
	// (or ""), "latin1" or "ascii" (config's encoding.defaultAlphabet).
	DataCoding0  string
	ShortMessage []byte
	// TLVs by tag; only the receipt tags and message_payload are read.
	TLVs map[uint16][]byte
}

// Receipt is a parsed delivery receipt. Strings are substrings of one copy
// of the input; nothing refers to the caller's buffers.
type Receipt struct {
	ID     string // receipted_message_id, else the text's id
	Stat   string // raw stat, upper-cased ("DELIVRD"), or message_state's name
	Err    string // raw err ("000"), or network_error_code's code
	Status Status
	Final  bool

	Submitted, Done       time.Time // UTC; zero when absent or not parseable
	SubmittedRaw, DoneRaw string    // as in the text
	Sub, Dlvrd            int
	Text                  string // the text's text: value, decoded to UTF-8

	MessageState    int    // message_state TLV, 0 if absent
	HasMessageState bool   // the message_state TLV was present (0 is SCHEDULED)
	NetworkError    []byte // network_error_code TLV, nil if absent
	Source          string // "tlv", "text" or "both": what supplied the fields

	// BareStat is set when Stat came from a status word of the text that
	// had no "stat:" key ("... done date:2412011201 DELIVRD err:000").
	BareStat bool
	// DecodeNote says how the text was read when it was not as its
	// data_coding says (see readText); empty otherwise.
	DecodeNote string

	// Conflict describes a disagreement between the TLVs and the text (id or
	// status); the TLV's value was used, but for message_state 0 next to a
	// known text stat ("text stat used"). Empty when they agree.
	Conflict string
}

// IsReceipt reports whether a deliver_sm/data_sm is a receipt: its esm_class
// message type is an SMSC delivery receipt, an SME delivery or manual ack, or
// an intermediate delivery notification, or it carries receipted_message_id
// (some operators send receipts with esm_class 0).
func IsReceipt(esmClass byte, tlvs map[uint16][]byte) bool {
	switch esmClass & esmTypeMask {
	case EsmSMSCReceipt, EsmSMEDeliveryAck, EsmSMEManualAck, EsmIntermediateNote:
		return true
	}
	_, ok := tlvs[TagReceiptedMessageID]
	return ok
}

// Parse parses a delivery receipt. Only a missing id is an error.
func Parse(in Input) (Receipt, error) {
	var r Receipt
	tlvUsed := false

	// TLVs first.
	tlvID := ""
	if v, ok := in.TLVs[TagReceiptedMessageID]; ok {
		tlvID = trimID(cString(v))
		tlvUsed = true
	}
	if v, ok := in.TLVs[TagMessageState]; ok && len(v) > 0 {
		r.MessageState = beInt(v)
		r.HasMessageState = true
		tlvUsed = true
	}
	if v, ok := in.TLVs[TagNetworkErrorCode]; ok {
		r.NetworkError = append([]byte(nil), v...)
		tlvUsed = true
	}

	// Then the text.
	t, note := readText(textOctets(in), in.DataCoding, in.DataCoding0)
	r.DecodeNote = note

	// ID.
	switch {
	case tlvID != "":
		r.ID = tlvID
		if t.id != "" && t.id != tlvID {
			r.Conflict = fmt.Sprintf("text id %q differs from receipted_message_id %q", t.id, tlvID)
		}
	case t.id != "":
		r.ID = t.id
	default:
		return Receipt{}, noIDError(in, t)
	}

	r.statusOf(t)
	r.Final = r.Status.Final() && in.EsmClass&esmTypeMask != EsmIntermediateNote

	// Err: the text's before text: (the SMSC's), else network_error_code,
	// else the text's after text: (which may be the subscriber's).
	switch {
	case t.has&hasErr != 0 && (t.after&hasErr == 0 || len(r.NetworkError) != 3):
		r.Err = t.err
	case len(r.NetworkError) == 3:
		r.Err = networkErr(r.NetworkError)
	}

	// The rest comes only from the text.
	r.SubmittedRaw, r.DoneRaw = t.submit, t.done
	r.Submitted = parseDate(t.submit)
	r.Done = parseDate(t.done)
	r.Sub = atoi(t.sub)
	r.Dlvrd = atoi(t.dlvrd)
	r.Text = t.text

	textUsed := t.has&^hasOther != 0
	switch {
	case tlvUsed && textUsed:
		r.Source = SourceBoth
	case tlvUsed:
		r.Source = SourceTLV
	default:
		r.Source = SourceText
	}
	return r, nil
}

// statusOf sets Stat, BareStat, Status and Conflict from the text's stat
// (keyed and not empty, else bare) and message_state. message_state wins when it holds a
// definite state (1..8 but 7 UNKNOWN), and the text's stat otherwise. State
// 0 (SMPP 5.0 SCHEDULED) counts only when the text has no known stat:
// Kannel's smppbox sends it with "stat:BUFFRED", but an SMSC that fills an
// unset message_state with 0 would otherwise turn every final receipt into
// ENROUTE, and the message would never end.
func (r *Receipt) statusOf(t textFields) {
	textStatus, hasText := Unknown, false
	switch {
	case t.stat != "": // an empty "stat:" says nothing
		r.Stat = upperASCII(t.stat)
		textStatus, hasText = Normalize(r.Stat), true
	case t.has&hasBare != 0:
		r.Stat, r.BareStat = t.bare, true
		textStatus, hasText = Normalize(r.Stat), true
	}
	if !r.HasMessageState {
		r.Status = textStatus
		return
	}
	if r.Stat == "" {
		if r.MessageState >= 0 && r.MessageState < len(stateNames) {
			r.Stat = stateNames[r.MessageState]
		} else {
			r.Stat = "UNKNOWN"
		}
	}
	stateStatus := StateStatus(r.MessageState)
	weak := r.MessageState == 0 && textStatus != Unknown
	if stateStatus == Unknown || weak {
		r.Status = textStatus
	} else {
		r.Status = stateStatus
	}
	if hasText && stateStatus != Unknown && textStatus != stateStatus {
		c := fmt.Sprintf("text stat %q (%s) differs from message_state %d (%s)", r.Stat, textStatus, r.MessageState, stateStatus)
		if weak {
			c += "; text stat used"
		}
		if r.Conflict != "" {
			c = r.Conflict + "; " + c
		}
		r.Conflict = c
	}
}

func noIDError(in Input, t textFields) error {
	var what string
	_, hasTLV := in.TLVs[TagReceiptedMessageID]
	switch {
	case hasTLV:
		what = "receipted_message_id is empty"
	default:
		what = "no receipted_message_id TLV"
	}
	switch {
	case t.has&hasID != 0:
		what += ", text has an empty id:"
	case t.has&^hasOther != 0:
		what += ", text has no id:"
	case len(trimBytes(in.ShortMessage)) == 0 && len(in.TLVs[TagMessagePayload]) == 0:
		what += ", no text"
	default:
		what += ", text is not a receipt"
	}
	return fmt.Errorf("dlr: %w (%s)", ErrNoID, what)
}

// cString returns b up to its first NUL (or all of b) as a string.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

func trimID(s string) string { return strings.Trim(s, " \t\r\n\x00") }

// beInt reads up to 4 big-endian bytes (message_state is 1 byte; some
// operators send it wider).
func beInt(b []byte) int {
	if len(b) > 4 {
		b = b[len(b)-4:]
	}
	n := 0
	for _, c := range b {
		n = n<<8 | int(c)
	}
	return n
}

// networkErr is network_error_code's error code (its last two octets, SMPP
// 3.4 5.3.2.31) as at least three decimal digits. Some SMSCs send the code
// as three ASCII digits instead ("000"); Kannel reads those as the code
// (gw/smsc/smsc_smpp.c, error_from_network_error_code: "a bogous SMSC
// sending back network_error_code as 3 digit string"), and so does this.
func networkErr(b []byte) string {
	if b[0] >= '0' && b[0] <= '9' && b[1] >= '0' && b[1] <= '9' && b[2] >= '0' && b[2] <= '9' {
		return string(b)
	}
	return errCode(int(b[1])<<8 | int(b[2]))
}

func errCode(n int) string {
	if n < 100 {
		b := [3]byte{'0', byte('0' + n/10), byte('0' + n%10)}
		return string(b[:])
	}
	return strconv.Itoa(n)
}
