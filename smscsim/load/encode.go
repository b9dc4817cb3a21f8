package load

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// SMPP command ids and TLV tags used on the hot path (SMPP 3.4 section 5.1.2.1, 5.3.2).
const (
	cmdGenericNack     = 0x80000000
	cmdBindReceiver    = 0x00000001
	cmdBindTransmitter = 0x00000002
	cmdSubmitSM        = 0x00000004
	cmdSubmitSMResp    = 0x80000004
	cmdDeliverSM       = 0x00000005
	cmdDeliverSMResp   = 0x80000005
	cmdUnbind          = 0x00000006
	cmdUnbindResp      = 0x80000006
	cmdBindTransceiver = 0x00000009
	cmdEnquireLink     = 0x00000015
	cmdEnquireLinkResp = 0x80000015
	cmdDataSM          = 0x00000103
	cmdDataSMResp      = 0x80000103

	statusInvCmdID = 0x00000003

	tagReceiptedMessageID = 0x001E
	tagMessagePayload     = 0x0424
)

// template holds the constant parts of the submit_sm this run sends; only the
// sequence number and the destination counter change between messages.
type template struct {
	head   []byte // service_type .. destination prefix (no NUL)
	tail   []byte // NUL of destination_addr .. end of body
	mod    uint64 // the counter is taken modulo this so the address stays <= 20 digits
	maxLen int    // upper bound of one encoded PDU
}

func newTemplate(c Config) (*template, error) {
	t := &template{}
	// service_type
	t.head = append(t.head, 0)
	// source_addr_ton, source_addr_npi, source_addr
	ton, npi := byte(5), byte(0) // alphanumeric
	if isDigits(c.Source) {
		ton, npi = 1, 1 // international, E.164
	}
	if c.Source == "" {
		ton, npi = 0, 0
	}
	t.head = append(t.head, ton, npi)
	t.head = append(t.head, c.Source...)
	t.head = append(t.head, 0)
	// dest_addr_ton, dest_addr_npi, destination_addr prefix
	t.head = append(t.head, 1, 1)
	t.head = append(t.head, c.Dest...)
	digits := 20 - len(c.Dest)
	if digits < 1 {
		return nil, fmt.Errorf("dest %q: at most 19 characters, to leave room for the counter", c.Dest)
	}
	t.mod = 1
	for i := 0; i < digits && i < 19; i++ {
		t.mod *= 10
	}

	var sm []byte
	var dc byte
	if isASCII(c.Text) {
		sm = []byte(c.Text)
	} else {
		if !utf8.ValidString(c.Text) {
			return nil, fmt.Errorf("text is not valid UTF-8")
		}
		dc = 8 // UCS2
		for _, u := range utf16.Encode([]rune(c.Text)) {
			sm = binary.BigEndian.AppendUint16(sm, u)
		}
	}
	if len(sm) > 0xFFFF {
		return nil, fmt.Errorf("text is %d octets encoded: at most 65535", len(sm))
	}
	var reg byte
	if c.Receipts {
		reg = 1
	}
	t.tail = append(t.tail,
		0,    // end of destination_addr
		0,    // esm_class
		0,    // protocol_id
		0,    // priority_flag
		0,    // schedule_delivery_time
		0,    // validity_period
		reg,  // registered_delivery
		0,    // replace_if_present_flag
		dc,   // data_coding
		0,    // sm_default_msg_id
		0xFF, // sm_length, set below
	)
	if len(sm) <= 254 {
		t.tail[len(t.tail)-1] = byte(len(sm))
		t.tail = append(t.tail, sm...)
	} else {
		t.tail[len(t.tail)-1] = 0
		t.tail = binary.BigEndian.AppendUint16(t.tail, tagMessagePayload)
		t.tail = binary.BigEndian.AppendUint16(t.tail, uint16(len(sm)))
		t.tail = append(t.tail, sm...)
	}
	t.maxLen = wire.HeaderLen + len(t.head) + 20 + len(t.tail)
	if t.maxLen > wire.DefaultMaxLen {
		return nil, fmt.Errorf("submit_sm would be %d octets: at most %d", t.maxLen, wire.DefaultMaxLen)
	}
	return t, nil
}

// appendSubmit appends one submit_sm with sequence number seq and destination
// counter n to b. It does not allocate when b has room for maxLen more bytes.
func (t *template) appendSubmit(b []byte, seq uint32, n uint64) []byte {
	start := len(b)
	b = append(b,
		0, 0, 0, 0, // command_length, patched below
		0, 0, 0, cmdSubmitSM,
		0, 0, 0, 0, // command_status
		byte(seq>>24), byte(seq>>16), byte(seq>>8), byte(seq),
	)
	b = append(b, t.head...)
	b = strconv.AppendUint(b, n%t.mod, 10)
	b = append(b, t.tail...)
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start))
	return b
}

// appendHeader appends a body-less PDU; deliver_sm_resp and data_sm_resp get
// the empty message_id their body requires.
func appendHeader(b []byte, cmd, status, seq uint32) []byte {
	l := uint32(wire.HeaderLen)
	withID := cmd == cmdDeliverSMResp || cmd == cmdDataSMResp
	if withID {
		l++
	}
	b = binary.BigEndian.AppendUint32(b, l)
	b = binary.BigEndian.AppendUint32(b, cmd)
	b = binary.BigEndian.AppendUint32(b, status)
	b = binary.BigEndian.AppendUint32(b, seq)
	if withID {
		b = append(b, 0)
	}
	return b
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// cstring returns the C-octet string at the start of b (without its NUL) and
// the rest after the NUL.
func cstring(b []byte) (s, rest []byte, ok bool) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return nil, nil, false
	}
	return b[:i], b[i+1:], true
}

// incoming is what the load generator needs from a deliver_sm or data_sm.
type incoming struct {
	esmClass   byte
	text       []byte // short_message or message_payload
	receiptID  []byte // receipted_message_id TLV, without trailing NULs
	hasReceipt bool   // receipted_message_id present
}

func (in *incoming) isReceipt() bool { return in.esmClass&0x3C == 0x04 || in.hasReceipt }

// id returns the receipted message id: the TLV when present, otherwise the
// "id:" field of the receipt text.
func (in *incoming) id() []byte {
	if in.hasReceipt {
		return in.receiptID
	}
	return receiptTextID(in.text)
}

// parseDeliverSM parses a deliver_sm body (after the header) in place.
func parseDeliverSM(body []byte) (in incoming, ok bool) {
	var s []byte
	if _, body, ok = cstring(body); !ok { // service_type
		return in, false
	}
	for range 2 { // source then destination: ton, npi, addr
		if len(body) < 2 {
			return in, false
		}
		if _, body, ok = cstring(body[2:]); !ok {
			return in, false
		}
	}
	if len(body) < 3 { // esm_class, protocol_id, priority_flag
		return in, false
	}
	in.esmClass = body[0]
	body = body[3:]
	for range 2 { // schedule_delivery_time, validity_period
		if _, body, ok = cstring(body); !ok {
			return in, false
		}
	}
	if len(body) < 5 { // registered_delivery, replace_if_present, data_coding, sm_default_msg_id, sm_length
		return in, false
	}
	n := int(body[4])
	body = body[5:]
	if len(body) < n {
		return in, false
	}
	in.text, s = body[:n], body[n:]
	return in, parseTLVs(s, &in)
}

// parseDataSM parses a data_sm body in place.
func parseDataSM(body []byte) (in incoming, ok bool) {
	if _, body, ok = cstring(body); !ok { // service_type
		return in, false
	}
	for range 2 {
		if len(body) < 2 {
			return in, false
		}
		if _, body, ok = cstring(body[2:]); !ok {
			return in, false
		}
	}
	if len(body) < 3 { // esm_class, registered_delivery, data_coding
		return in, false
	}
	in.esmClass = body[0]
	return in, parseTLVs(body[3:], &in)
}

func parseTLVs(b []byte, in *incoming) bool {
	for len(b) >= 4 {
		tag := binary.BigEndian.Uint16(b)
		l := int(binary.BigEndian.Uint16(b[2:]))
		if len(b) < 4+l {
			return false
		}
		v := b[4 : 4+l]
		switch tag {
		case tagReceiptedMessageID:
			for len(v) > 0 && v[len(v)-1] == 0 {
				v = v[:len(v)-1]
			}
			in.receiptID, in.hasReceipt = v, true
		case tagMessagePayload:
			if len(in.text) == 0 {
				in.text = v
			}
		}
		b = b[4+l:]
	}
	return len(b) == 0
}

// receiptTextID returns the value of the "id:" field of a receipt text
// ("id:IIIIIIIIII sub:SSS dlvrd:DDD ..."), or nil.
func receiptTextID(t []byte) []byte {
	i := bytes.Index(t, []byte("id:"))
	for i > 0 && t[i-1] != ' ' { // "id:" inside another word; look further
		j := bytes.Index(t[i+3:], []byte("id:"))
		if j < 0 {
			return nil
		}
		i += 3 + j
	}
	if i < 0 {
		return nil
	}
	v := t[i+3:]
	if j := bytes.IndexByte(v, ' '); j >= 0 {
		v = v[:j]
	}
	return v
}
