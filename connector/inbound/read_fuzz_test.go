package inbound

import (
	"bytes"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/segment"
)

// FuzzRead runs the inbound path's read step on any deliver_sm or data_sm
// body an SMSC could send: no panic, and every PDU is exactly one of a
// receipt with a key and a valid status (bound for the inbox), a receipt
// that cannot be read (kept in smpp.unmatched_receipts with why), or an MO
// whose text decodes or goes out raw with why. Run it with
//
//	go test -run '^$' -fuzz FuzzRead ./connector/inbound/
func FuzzRead(f *testing.F) {
	seeds := [][]byte{
		// deliver_sm: a textbook receipt, esm_class 0x04
		deliverBody(0x04, 0, []byte("id:1234 sub:001 dlvrd:001 submit date:2412011200 done date:2412011201 stat:DELIVRD err:000 text:hi"), nil),
		// UCS2 receipt text
		deliverBody(0x04, 8, utf16be("id:77 stat:ACCEPTD err:000"), nil),
		// bare status, esm_class 0 (only the quirk takes it for a receipt)
		deliverBody(0, 0, []byte("id:9 sub:001 dlvrd:001 submit date:2412011200 done date:2412011201 DELIVRD err:000 text:x"), nil),
		// TLV-only receipt, message_state 0
		deliverBody(0x04, 0, nil, []tlv{{dlr.TagReceiptedMessageID, []byte("ab12\x00")}, {dlr.TagMessageState, []byte{0}}}),
		// an MO, and one of a concatenated MO with a UDH
		deliverBody(0, 0, []byte("hello"), nil),
		deliverBody(0x40, 0, []byte{0x05, 0x00, 0x03, 0x07, 0x02, 0x01, 'a', 'b'}, nil),
		// a receipt without any id
		deliverBody(0x04, 0, []byte("stat:DELIVRD"), nil),
		// parts of concatenated MO whose text looks like a receipt (UDH,
		// SAR TLVs): never receipts by their text
		deliverBody(0x40, 0, append([]byte{0x05, 0x00, 0x03, 0x07, 0x02, 0x01}, receiptText...), nil),
		deliverBody(0, 0, []byte(receiptText), sarTLVs(7, 2, 1)),
		// a segmented receipt that says so
		deliverBody(0x44, 0, append([]byte{0x05, 0x00, 0x03, 0x07, 0x02, 0x01}, receiptText...), nil),
		// esm_class 0 receipts the quirk takes: dates with a time, an id
		// of any printable characters; and texts it does not: a word
		// beside the fields, a stat after text:
		deliverBody(0, 0, []byte(receiptSlashDates), nil),
		deliverBody(0, 0, []byte(receiptISODates), nil),
		deliverBody(0, 0, []byte(receiptPrintableID), nil),
		deliverBody(0, 0, []byte("id:1 DELIVRD err:000 sub:001 Delivered text:x"), nil),
		deliverBody(0x04, 0, []byte("id:1 text:Your parcel stat:UNDELIV err:1"), nil),
	}
	for _, s := range seeds {
		f.Add(s, false, true)
		f.Add(s, false, false)
	}
	f.Add(dataBody(0x04, 8, []tlv{{dlr.TagMessagePayload, utf16be("id:5 stat:DELIVRD err:000")}}), true, false)
	f.Add(dataBody(0, 0, []tlv{{dlr.TagMessagePayload, []byte("an MO in a data_sm")}}), true, false)
	f.Add(dataBody(0, 0, append(sarTLVs(9, 3, 2), tlv{dlr.TagMessagePayload, []byte(receiptText)})), true, true)
	f.Fuzz(func(t *testing.T, body []byte, asDataSM, esm0Quirk bool) {
		var in incoming
		if asDataSM {
			d := pdu.NewDataSM().(*pdu.DataSM)
			if d.Unmarshal(pdu.NewBuffer(header(0x00000103, body))) != nil {
				return // gosmpp refuses it: the session never hands it over
			}
			in = fromDataSM(d)
		} else {
			d := pdu.NewDeliverSM().(*pdu.DeliverSM)
			if d.Unmarshal(pdu.NewBuffer(header(0x00000005, body))) != nil {
				return
			}
			in = fromDeliverSM(d)
		}
		op := Operator{ID: "mno-f", IDRule: dlr.IDRule{Resp: "decimal", Receipt: "hex"}, ReceiptsWithEsmClass0: esm0Quirk}
		for _, dc0 := range []string{"gsm7", "latin1"} {
			op.DataCoding0 = dc0
			v := read(op, in, time.Now())
			// A part of a concatenated message that does not say it is a
			// receipt is an MO part, whatever its text.
			_, sar := in.tlvs[segment.TagSarMsgRefNum]
			_, sarTotal := in.tlvs[segment.TagSarTotalSegments]
			_, sarSeq := in.tlvs[segment.TagSarSegmentSeqnum]
			if (in.esmClass&segment.EsmClassUDHI != 0 || sar || sarTotal || sarSeq) && !dlr.IsReceipt(in.esmClass, in.tlvs) && v.mo == nil {
				t.Fatalf("a part of a concatenated message (esm_class %#x, TLVs %v) read as a receipt", in.esmClass, in.tlvs)
			}
			switch {
			case v.mo != nil:
				if v.unreadable != nil {
					t.Fatal("both an MO and an unreadable receipt")
				}
				mo := v.mo
				if mo.malformed == nil && mo.segmented && (mo.seq < 1 || mo.seq > mo.total) {
					t.Fatalf("part %d of %d", mo.seq, mo.total)
				}
				if mo.malformed == nil && !(mo.segmented && mo.total > 1) {
					// A single MO decodes, or is published raw with why: both fine, neither panics.
					_, _ = segment.Decode(mo.part.DataCoding, mo.payload, dc0)
				}
			case v.unreadable != nil:
				if v.receipt.OperatorID != op.ID {
					t.Fatalf("unreadable receipt kept without its operator: %+v", v.receipt)
				}
			default:
				rc := v.receipt
				if rc.SMSCKey == "" || rc.RawID == "" || !rc.Status.Valid() {
					t.Fatalf("receipt %+v", rc)
				}
			}
		}
	})
}

// receiptText is a receipt's text in full, as an SMSC writes it.
const receiptText = "id:1234 sub:001 dlvrd:001 submit date:2412011200 done date:2412011201 stat:DELIVRD err:000 text:hi"

// Receipt texts of SMSCs that write dates with separators and a time, or
// ids with characters beyond letters and digits.
const (
	receiptSlashDates  = "id:1 sub:001 dlvrd:001 submit date:24/12/01 12:00 done date:24/12/01 12:01 stat:DELIVRD err:000 text:x"
	receiptISODates    = "id:1 sub:001 dlvrd:001 submit date:2024-12-01 12:00:00 done date:2024-12-01 12:01:00 stat:DELIVRD err:000 text:x"
	receiptPrintableID = "id:abc+def/1 sub:001 dlvrd:001 submit date:2412011200 done date:2412011201 stat:DELIVRD err:000 text:x"
)

// sarTLVs are the SAR TLVs of part seq of total of message ref.
func sarTLVs(ref uint16, total, seq byte) []tlv {
	return []tlv{{segment.TagSarMsgRefNum, []byte{byte(ref >> 8), byte(ref)}},
		{segment.TagSarTotalSegments, []byte{total}}, {segment.TagSarSegmentSeqnum, []byte{seq}}}
}

type tlv struct {
	tag uint16
	val []byte
}

// deliverBody is a deliver_sm body (no header): SMPP 3.4 4.6.1.
func deliverBody(esm, dc byte, msg []byte, tlvs []tlv) []byte {
	var b bytes.Buffer
	b.WriteString("\x00")             // service_type
	b.Write([]byte{1, 1})             // source TON, NPI
	b.WriteString("447700900123\x00") // source_addr
	b.Write([]byte{5, 0})             // dest TON, NPI
	b.WriteString("ACME\x00")         // destination_addr
	b.Write([]byte{esm, 0, 0})        // esm_class, protocol_id, priority_flag
	b.WriteString("\x00\x00")         // schedule_delivery_time, validity_period
	b.Write([]byte{0, 0, dc, 0})      // registered_delivery, replace_if_present, data_coding, sm_default_msg_id
	b.WriteByte(byte(len(msg)))
	b.Write(msg)
	for _, t := range tlvs {
		b.Write([]byte{byte(t.tag >> 8), byte(t.tag), byte(len(t.val) >> 8), byte(len(t.val))})
		b.Write(t.val)
	}
	return b.Bytes()
}

// dataBody is a data_sm body (no header): SMPP 3.4 4.7.1.
func dataBody(esm, dc byte, tlvs []tlv) []byte {
	var b bytes.Buffer
	b.WriteString("\x00\x01\x01447700900123\x00\x05\x00ACME\x00")
	b.Write([]byte{esm, 0, dc}) // esm_class, registered_delivery, data_coding
	for _, t := range tlvs {
		b.Write([]byte{byte(t.tag >> 8), byte(t.tag), byte(len(t.val) >> 8), byte(len(t.val))})
		b.Write(t.val)
	}
	return b.Bytes()
}

// header puts an SMPP header before a body.
func header(cmd uint32, body []byte) []byte {
	n := uint32(16 + len(body))
	h := []byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), byte(cmd >> 24), byte(cmd >> 16), byte(cmd >> 8), byte(cmd),
		0, 0, 0, 0, 0, 0, 0, 1}
	return append(h, body...)
}

func utf16be(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r>>8), byte(r))
	}
	return b
}

// The seeds read as what they are: the fuzz target starts from every kind.
func TestReadSeeds(t *testing.T) {
	op := Operator{ID: "mno-f"}
	parse := func(body []byte, data bool) incoming {
		t.Helper()
		if data {
			d := pdu.NewDataSM().(*pdu.DataSM)
			if err := d.Unmarshal(pdu.NewBuffer(header(0x00000103, body))); err != nil {
				t.Fatal(err)
			}
			return fromDataSM(d)
		}
		d := pdu.NewDeliverSM().(*pdu.DeliverSM)
		if err := d.Unmarshal(pdu.NewBuffer(header(0x00000005, body))); err != nil {
			t.Fatal(err)
		}
		return fromDeliverSM(d)
	}
	kind := func(v verdict) string {
		switch {
		case v.mo != nil:
			return "mo"
		case v.unreadable != nil:
			return "unreadable"
		}
		return "receipt " + string(v.receipt.Status) + " " + v.receipt.RawID
	}
	for _, c := range []struct {
		in   incoming
		esm0 bool
		want string
	}{
		{parse(deliverBody(0x04, 8, utf16be("id:77 stat:ACCEPTD err:000"), nil), false), false, "receipt ACCEPTED 77"},
		{parse(deliverBody(0, 0, []byte("id:9 sub:001 dlvrd:001 submit date:2412011200 done date:2412011201 DELIVRD err:000 text:x"), nil), false), true, "receipt DELIVERED 9"},
		{parse(deliverBody(0, 0, []byte("id:9 sub:001 dlvrd:001 submit date:2412011200 done date:2412011201 DELIVRD err:000 text:x"), nil), false), false, "mo"},
		{parse(deliverBody(0x04, 0, nil, []tlv{{dlr.TagReceiptedMessageID, []byte("ab12\x00")}, {dlr.TagMessageState, []byte{0}}}), false), false, "receipt ENROUTE ab12"},
		{parse(deliverBody(0x20, 0, []byte("id:3 stat:UNDELIV err:001"), nil), false), false, "receipt ENROUTE 3"},
		{parse(deliverBody(0x04, 0, []byte("stat:DELIVRD"), nil), false), false, "unreadable"},
		{parse(dataBody(0x04, 8, []tlv{{dlr.TagMessagePayload, utf16be("id:5 stat:DELIVRD err:000")}}), true), false, "receipt DELIVERED 5"},
		{parse(dataBody(0, 0, []tlv{{dlr.TagMessagePayload, []byte("an MO in a data_sm")}}), true), false, "mo"},
		// With the quirk: a receipt's text with esm_class 0 is a receipt...
		{parse(deliverBody(0, 0, []byte(receiptText), nil), false), true, "receipt DELIVERED 1234"},
		{parse(dataBody(0, 0, []tlv{{dlr.TagMessagePayload, []byte(receiptText)}}), true), true, "receipt DELIVERED 1234"},
		// ... but not in prose, nor in a part of a concatenated MO (UDH,
		// SAR TLVs, in deliver_sm or data_sm), whatever its text.
		{parse(deliverBody(0, 0, []byte("id:1234 stat:DELIVRD err:000 see you"), nil), false), true, "mo"},
		{parse(deliverBody(0x40, 0, append([]byte{0x05, 0x00, 0x03, 0x07, 0x02, 0x01}, receiptText...), nil), false), true, "mo"},
		{parse(deliverBody(0x40, 0, append([]byte{0x06, 0x08, 0x04, 0x00, 0x07, 0x02, 0x02}, receiptText...), nil), false), true, "mo"},
		{parse(deliverBody(0, 0, []byte(receiptText), sarTLVs(7, 2, 1)), false), true, "mo"},
		{parse(deliverBody(0, 0, []byte(receiptText), sarTLVs(7, 2, 1)[:1]), false), true, "mo"},
		{parse(dataBody(0, 0, append(sarTLVs(9, 3, 2), tlv{dlr.TagMessagePayload, []byte(receiptText)})), true), true, "mo"},
		{parse(dataBody(0x40, 0, []tlv{{dlr.TagMessagePayload, append([]byte{0x05, 0x00, 0x03, 0x07, 0x02, 0x01}, receiptText...)}}), true), true, "mo"},
		// A segmented receipt that says so by its esm_class is one.
		{parse(deliverBody(0x44, 0, append([]byte{0x05, 0x00, 0x03, 0x07, 0x02, 0x01}, receiptText...), nil), false), true, "receipt DELIVERED 1234"},
		// With the quirk: dates with a time after them, and ids of any
		// printable characters, are receipts (they were published as MO:
		// the receipt lost).
		{parse(deliverBody(0, 0, []byte(receiptSlashDates), nil), false), true, "receipt DELIVERED 1"},
		{parse(deliverBody(0, 0, []byte(receiptISODates), nil), false), true, "receipt DELIVERED 1"},
		{parse(deliverBody(0, 0, []byte(receiptPrintableID), nil), false), true, "receipt DELIVERED abc+def/1"},
		{parse(dataBody(0, 0, []tlv{{dlr.TagMessagePayload, []byte(receiptSlashDates)}}), true), true, "receipt DELIVERED 1"},
		{parse(deliverBody(0, 0, []byte("id:1 sub:001 dlvrd:001 submit date:24/12/01 12:00 stat:DELIVRD err:000 see you"), nil), false), true, "mo"},
		// A word beside the fields: a receipt when the esm_class says so,
		// read as before the shape rule (DELIVRD); an MO without it.
		{parse(deliverBody(0x04, 0, []byte("id:1 DELIVRD err:000 sub:001 Delivered text:x"), nil), false), false, "receipt DELIVERED 1"},
		{parse(deliverBody(0, 0, []byte("id:1 DELIVRD err:000 sub:001 Delivered text:x"), nil), false), true, "mo"},
		// A stat: after text: is the subscriber's: no status, not theirs.
		{parse(deliverBody(0x04, 0, []byte("id:1 text:Your parcel stat:UNDELIV err:1"), nil), false), false, "receipt UNKNOWN 1"},
		{parse(deliverBody(0, 0, []byte("id:1 text:Your parcel stat:UNDELIV err:1"), nil), false), true, "mo"},
	} {
		op.ReceiptsWithEsmClass0 = c.esm0
		if got := kind(read(op, c.in, time.Now())); got != c.want {
			t.Errorf("%s esm_class %#x quirk %v: %s, want %s", c.in.kind, c.in.esmClass, c.esm0, got, c.want)
		}
	}
}
