package server

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// The receipt styles of issue 9, each read off the wire by gosmpp's parser
// (a plain SMPP client, not the simulator's own codec).

func ackData(c *smpptest.Raw, d pdu.PDU, status data.CommandStatusType) {
	c.Write(wire.MessageIDResp(nil, data.DATA_SM_RESP, status, d.GetSequenceNumber(), ""))
}

func tlvData(p map[pdu.Tag]pdu.Field, tag pdu.Tag) ([]byte, bool) {
	f, ok := p[tag]
	return f.Data, ok
}

func TestReceiptAsDataSM(t *testing.T) {
	s, addr := start(t, profile.Profile{Receipt: profile.Receipt{PDU: profile.PDUDataSM}})
	c := bound(t, addr, pdu.Transceiver)
	c.Submit("447700900123", "hello", 1)
	resp := c.Expect(data.SUBMIT_SM_RESP, wait).(*pdu.SubmitSMResp)
	d := c.Expect(data.DATA_SM, wait).(*pdu.DataSM)
	text, _ := tlvData(d.OptionalParameters, pdu.TagMessagePayload)
	rid, _ := tlvData(d.OptionalParameters, pdu.TagReceiptedMessageID)
	state, _ := tlvData(d.OptionalParameters, pdu.TagMessageStateOption)
	nerr, _ := tlvData(d.OptionalParameters, pdu.TagNetworkErrorCode)
	if d.EsmClass != 0x04 || d.DataCoding != 0 || !strings.HasPrefix(string(text), "id:"+resp.MessageID+" sub:001") ||
		!strings.Contains(string(text), "stat:DELIVRD err:000 text:hello") ||
		string(rid) != resp.MessageID+"\x00" || !bytes.Equal(state, []byte{2}) || !bytes.Equal(nerr, []byte{3, 0, 0}) {
		t.Fatalf("data_sm esm 0x%02x dc %d payload %q rid %q state %v nerr %v", d.EsmClass, d.DataCoding, text, rid, state, nerr)
	}
	if d.SourceAddr.Address() != "447700900123" || d.DestAddr.Address() != "TEST" {
		t.Fatalf("addresses %q -> %q", d.SourceAddr.Address(), d.DestAddr.Address())
	}
	// data_sm_resp settles it as deliver_sm_resp would: counted, not resent.
	ackData(c, d, data.ESME_ROK)
	c.ExpectQuiet(wait)
	if n := s.Stats().Sum("op", "test", "receipt_resp", "ESME_ROK"); n != 1 {
		t.Fatalf("receipt_resp ESME_ROK = %d", n)
	}
	if n := s.Stats().Sum("op", "test", "receipt_resp", "mismatched deliver_sm_resp"); n != 0 {
		t.Fatal("counted a mismatch")
	}
}

// The data_sm goes through the deliver_sm accounting: a temporary error is
// retried, an unanswered one is given to the next bind, and a
// deliver_sm_resp to it is taken but counted as mismatched.
func TestDataSMReceiptRedelivery(t *testing.T) {
	s, addr := start(t, profile.Profile{Receipt: profile.Receipt{PDU: profile.PDUDataSM}})
	c := bound(t, addr, pdu.Transceiver)
	c.Submit("447700900123", "x", 1)
	c.Expect(data.SUBMIT_SM_RESP, wait)
	first := c.Expect(data.DATA_SM, wait)
	ackData(c, first, data.ESME_RTHROTTLED)
	again := c.Expect(data.DATA_SM, 3*wait) // resent after the SMSC's 1 s back-off
	if a, b := first.(*pdu.DataSM).OptionalParameters[pdu.TagReceiptedMessageID], again.(*pdu.DataSM).OptionalParameters[pdu.TagReceiptedMessageID]; a.String() != b.String() {
		t.Fatalf("resent %q, first was %q", b.String(), a.String())
	}
	// Unanswered, then the bind drops: the next bind gets it.
	c.Conn.Close()
	smpptest.Eventually(t, wait, 10*time.Millisecond, func() error {
		if queued(t, s) != 1 {
			return errString("not requeued yet")
		}
		return nil
	})
	c2 := bound(t, addr, pdu.Receiver)
	third := c2.Expect(data.DATA_SM, wait)
	c2.AckDeliver(third, data.ESME_ROK) // the wrong resp
	c2.ExpectQuiet(wait)
	if n := s.Stats().Sum("op", "test", "receipt_resp", "mismatched deliver_sm_resp"); n != 1 {
		t.Fatalf("mismatched = %d", n)
	}
	if n := s.Stats().Sum("op", "test", "receipt_resp", "ESME_RTHROTTLED"); n != 1 {
		t.Fatalf("throttled = %d", n)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func utf16be(s string) []byte {
	var out []byte
	for _, u := range utf16.Encode([]rune(s)) {
		out = binary.BigEndian.AppendUint16(out, u)
	}
	return out
}

// The receipt text's octets in each data_coding, written out from the
// tables (ü is 0x7E in GSM 03.38 and 0xFC in Latin-1).
func TestReceiptDataCoding(t *testing.T) {
	for _, c := range []struct {
		name string
		dc   byte
		dc0  string
		tail []byte
	}{
		{"gsm7", 0, "gsm7", []byte("text:Gr\x7Ee \x00")}, // @ is 0x00
		{"dc0 latin1", 0, "latin1", []byte("text:Gr\xFCe @")},
		{"dc0 ascii", 0, "ascii", []byte("text:Gr?e @")},
		{"latin1", 3, "gsm7", []byte("text:Gr\xFCe @")},
		{"ucs2", 8, "gsm7", utf16be("text:Grüe @")},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, addr := start(t, profile.Profile{DataCoding0: c.dc0, Receipt: profile.Receipt{DataCoding: c.dc, Carry: profile.CarryText}})
			conn := bound(t, addr, pdu.Transceiver)
			sm := smpptest.NewSubmit(t, "TEST", "447700900123", "", 1)
			sm.Message, _ = pdu.NewShortMessageWithEncoding("Grüe @", data.UCS2)
			conn.Send(sm)
			conn.Expect(data.SUBMIT_SM_RESP, wait)
			d := conn.Expect(data.DELIVER_SM, wait).(*pdu.DeliverSM)
			raw, _ := d.Message.GetMessageData()
			if dc := d.Message.Encoding().DataCoding(); dc != c.dc || !bytes.HasSuffix(raw, c.tail) {
				t.Fatalf("data_coding %d, text % X\nwant it to end % X", dc, raw, c.tail)
			}
			if c.dc == 8 && !bytes.HasPrefix(raw, utf16be("id:")) {
				t.Fatalf("ucs2 text % X", raw)
			}
		})
	}
}

func TestIntermediateReceipts(t *testing.T) {
	spec := byte(0x20)
	all := []string{"SCHEDULED", "ENROUTE", "ACCEPTD", "BUFFRED", "ACKED"}
	for _, c := range []struct {
		name  string
		prof  profile.Profile
		stats []string
		esm   byte
		state []byte // message_state per intermediate; nil: no TLVs
	}{
		{"spec esm 0x20", profile.Profile{Receipt: profile.Receipt{Intermediate: all, IntermediateESMClass: &spec}}, all, 0x20, []byte{0, 1, 6, 1, 6}},
		{"default esm", profile.Profile{Receipt: profile.Receipt{Intermediate: []string{"ENROUTE"}}}, []string{"ENROUTE"}, 0x04, []byte{1}},
		{"carry text", profile.Profile{Receipt: profile.Receipt{Intermediate: []string{"BUFFRED", "ACKED"}, Carry: profile.CarryText}}, []string{"BUFFRED", "ACKED"}, 0x04, nil},
		{"kannel-smppbox style", profile.Profile{Style: "kannel-smppbox"}, []string{"BUFFRED", "ACKED"}, 0x04, []byte{1, 6}},
		{"data_sm", profile.Profile{Receipt: profile.Receipt{Intermediate: []string{"ACCEPTD"}, PDU: profile.PDUDataSM}}, []string{"ACCEPTD"}, 0x04, []byte{6}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, addr := start(t, c.prof)
			conn := bound(t, addr, pdu.Transceiver)
			conn.Submit("447700900123", "x", 1)
			resp := conn.Expect(data.SUBMIT_SM_RESP, wait).(*pdu.SubmitSMResp)
			for i := 0; i <= len(c.stats); i++ {
				p, err := conn.Read(wait)
				if err != nil {
					t.Fatalf("receipt %d: %v", i, err)
				}
				esm, text, tlvs := receiptParts(t, p)
				if c.prof.Receipt.PDU == profile.PDUDataSM {
					ackData(conn, p, 0)
				} else {
					conn.AckDeliver(p, 0)
				}
				if rid, _ := tlvData(tlvs, pdu.TagReceiptedMessageID); c.state != nil && string(rid) != resp.MessageID+"\x00" {
					t.Fatalf("receipt %d for %q", i, rid)
				}
				if !strings.HasPrefix(text, "id:"+resp.MessageID+" ") {
					t.Fatalf("receipt %d text %q", i, text)
				}
				if i == len(c.stats) { // the final one
					if esm != 0x04 || !strings.Contains(text, "stat:DELIVRD") {
						t.Fatalf("final: esm 0x%02x text %q", esm, text)
					}
					continue
				}
				state, hasState := tlvData(tlvs, pdu.TagMessageStateOption)
				if esm != c.esm || !strings.Contains(text, "stat:"+c.stats[i]+" ") {
					t.Fatalf("intermediate %d: esm 0x%02x text %q", i, esm, text)
				}
				if c.state == nil && hasState || c.state != nil && !bytes.Equal(state, []byte{c.state[i]}) {
					t.Fatalf("intermediate %d %s: message_state %v", i, c.stats[i], state)
				}
			}
			conn.ExpectQuiet(wait)
			if n := receiptsMade(s, ""); n != 1 {
				t.Fatalf("%d final receipts", n)
			}
			if n := s.Stats().Sum("op", "test", "receipt_intermediate", ""); n != uint64(len(c.stats)) {
				t.Fatalf("%d intermediate receipts", n)
			}
		})
	}
}

// receiptParts reads the esm_class, text and TLVs of a deliver_sm or data_sm.
func receiptParts(t *testing.T, p pdu.PDU) (byte, string, map[pdu.Tag]pdu.Field) {
	t.Helper()
	switch v := p.(type) {
	case *pdu.DeliverSM:
		return v.EsmClass, receiptText(v), v.OptionalParameters
	case *pdu.DataSM:
		text, _ := tlvData(v.OptionalParameters, pdu.TagMessagePayload)
		return v.EsmClass, string(text), v.OptionalParameters
	}
	t.Fatalf("got %s, not a receipt", wire.CommandName(p.GetHeader().CommandID))
	return 0, "", nil
}

func TestBareStatusReceipt(t *testing.T) {
	_, addr := start(t, profile.Profile{Style: "bare-status"})
	c := bound(t, addr, pdu.Transceiver)
	c.Submit("447700900123", "hi", 1)
	resp := c.Expect(data.SUBMIT_SM_RESP, wait).(*pdu.SubmitSMResp)
	d := c.Expect(data.DELIVER_SM, wait).(*pdu.DeliverSM)
	text := receiptText(d)
	if !strings.HasPrefix(text, "id:"+resp.MessageID+" sub:001 dlvrd:001 submit date:") || !strings.Contains(text, " DELIVRD err:000 text:hi") ||
		strings.Contains(text, "stat:") || len(d.OptionalParameters) != 0 {
		t.Fatalf("%q tlvs %v", text, d.OptionalParameters)
	}
}

// esm_class 0 and text only: on the wire it is an MO but for its text.
func TestESMClass0TextOnlyReceipt(t *testing.T) {
	_, addr := start(t, profile.Profile{Style: "esm0-receipts"})
	c := bound(t, addr, pdu.Transceiver)
	c.Submit("447700900123", "hi", 1)
	resp := c.Expect(data.SUBMIT_SM_RESP, wait).(*pdu.SubmitSMResp)
	d := c.Expect(data.DELIVER_SM, wait).(*pdu.DeliverSM)
	if d.EsmClass != 0 || len(d.OptionalParameters) != 0 || !strings.HasPrefix(receiptText(d), "id:"+resp.MessageID+" ") ||
		!strings.Contains(receiptText(d), "stat:DELIVRD") {
		t.Fatalf("esm 0x%02x tlvs %v text %q", d.EsmClass, d.OptionalParameters, receiptText(d))
	}
}

// UCS2 doubles the receipt: with a uuid id it outgrows short_message's 254
// octets, and goes whole in message_payload rather than cut.
func TestLongUCS2ReceiptGoesInPayload(t *testing.T) {
	_, addr := start(t, profile.Profile{MessageID: profile.IDFormat{Format: profile.IDUUID},
		Receipt: profile.Receipt{DataCoding: 8, Text: "seconds"}})
	c := bound(t, addr, pdu.Transceiver)
	c.Submit("447700900123", "twenty characters!!!", 1)
	resp := c.Expect(data.SUBMIT_SM_RESP, wait).(*pdu.SubmitSMResp)
	d := c.Expect(data.DELIVER_SM, wait).(*pdu.DeliverSM)
	sm, _ := d.Message.GetMessageData()
	payload, _ := tlvData(d.OptionalParameters, pdu.TagMessagePayload)
	if len(sm) != 0 || len(payload) <= 254 || !bytes.HasPrefix(payload, utf16be("id:"+resp.MessageID+" ")) ||
		!bytes.HasSuffix(payload, utf16be("text:twenty characters!!!")) {
		t.Fatalf("short_message %d octets, payload %d: % X", len(sm), len(payload), payload)
	}
}
