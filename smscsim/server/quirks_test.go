package server

import (
	"strconv"
	"strings"
	"testing"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

func receiptText(d *pdu.DeliverSM) string {
	b, _ := d.Message.GetMessageData()
	return string(b)
}

func TestHexInRespDecimalInReceipt(t *testing.T) {
	_, addr := start(t, profile.Profile{
		MessageID:        profile.IDFormat{Format: profile.IDHexUpper},
		ReceiptMessageID: &profile.IDFormat{Format: profile.IDDecimal},
	})
	c := bound(t, addr, pdu.Transceiver)
	for i := 0; i < 12; i++ { // get past 9 so hex and decimal differ
		c.Submit("447700900123", "x", 1)
		resp := c.Expect(data.SUBMIT_SM_RESP, wait).(*pdu.SubmitSMResp)
		d := c.Expect(data.DELIVER_SM, wait).(*pdu.DeliverSM)
		c.AckDeliver(d, 0)
		n, err := strconv.ParseUint(resp.MessageID, 16, 64)
		if err != nil || resp.MessageID != strings.ToUpper(resp.MessageID) {
			t.Fatalf("resp id %q is not upper hex", resp.MessageID)
		}
		want := strconv.FormatUint(n, 10)
		if !strings.HasPrefix(receiptText(d), "id:"+want+" ") || tlvString(d, pdu.TagReceiptedMessageID) != want {
			t.Fatalf("receipt %q / TLV %q, want decimal %s of %s", receiptText(d), tlvString(d, pdu.TagReceiptedMessageID), want, resp.MessageID)
		}
	}
}

func TestReceiptCarry(t *testing.T) {
	for _, carry := range []string{profile.CarryText, profile.CarryTLV, profile.CarryBoth} {
		t.Run(carry, func(t *testing.T) {
			_, addr := start(t, profile.Profile{Receipt: profile.Receipt{Carry: carry}})
			c := bound(t, addr, pdu.Transceiver)
			c.Submit("447700900123", "x", 1)
			c.Expect(data.SUBMIT_SM_RESP, wait)
			d := c.Expect(data.DELIVER_SM, wait).(*pdu.DeliverSM)
			_, hasTLV := d.OptionalParameters[pdu.TagReceiptedMessageID]
			_, hasState := d.OptionalParameters[pdu.TagMessageStateOption]
			hasText := receiptText(d) != ""
			if hasTLV != (carry != profile.CarryText) || hasState != hasTLV || hasText != (carry != profile.CarryTLV) {
				t.Fatalf("text %v tlv %v state %v", hasText, hasTLV, hasState)
			}
			if hasState && d.OptionalParameters[pdu.TagMessageStateOption].Data[0] != 2 {
				t.Fatal("message_state is not DELIVERED")
			}
		})
	}
}

func TestReceiptTextVariantAndESMClass(t *testing.T) {
	esm := byte(0x00)
	_, addr := start(t, profile.Profile{Receipt: profile.Receipt{Text: "capitalized", ESMClass: &esm}})
	c := bound(t, addr, pdu.Transceiver)
	c.Submit("447700900123", "x", 1)
	c.Expect(data.SUBMIT_SM_RESP, wait)
	d := c.Expect(data.DELIVER_SM, wait).(*pdu.DeliverSM)
	if d.EsmClass != 0 || !strings.HasPrefix(receiptText(d), "Id:") || !strings.Contains(receiptText(d), "Stat:DELIVRD") {
		t.Fatalf("esm 0x%02x text %q", d.EsmClass, receiptText(d))
	}
}

func submitPart(t *testing.T, part, total byte) *pdu.SubmitSM {
	s := smpptest.NewSubmit(t, "TEST", "447700900123", "part "+strconv.Itoa(int(part)), 1)
	s.EsmClass = 0x40
	s.Message.SetUDH(pdu.UDH{pdu.NewIEConcatMessage(total, part, 9)})
	return s
}

func TestReceiptsPerPartPolicy(t *testing.T) {
	for _, c := range []struct {
		parts string
		want  []int // which parts get a receipt
	}{
		{profile.PartsEach, []int{1, 2, 3}},
		{profile.PartsFirst, []int{1}},
		{profile.PartsLast, []int{3}},
	} {
		t.Run(c.parts, func(t *testing.T) {
			s, addr := start(t, profile.Profile{Receipt: profile.Receipt{Parts: c.parts}})
			conn := bound(t, addr, pdu.Transceiver)
			parts := map[int32]int{}
			for p := 1; p <= 3; p++ {
				parts[conn.Send(submitPart(t, byte(p), 3))] = p
			}
			// Receipts may overtake later resps: read both kinds as they come.
			ids := map[string]int{}
			var receipted []string
			for len(ids) < 3 || len(receipted) < len(c.want) {
				p, err := conn.Read(wait)
				if err != nil {
					t.Fatalf("after %d resps and %d receipts: %v", len(ids), len(receipted), err)
				}
				switch v := p.(type) {
				case *pdu.SubmitSMResp:
					ids[v.MessageID] = parts[v.SequenceNumber]
				case *pdu.DeliverSM:
					conn.AckDeliver(v, 0)
					receipted = append(receipted, tlvString(v, pdu.TagReceiptedMessageID))
				}
			}
			var got []int
			for _, id := range receipted {
				got = append(got, ids[id])
			}
			conn.ExpectQuiet(wait)
			if n := receiptsMade(s, ""); n != uint64(len(c.want)) {
				t.Fatalf("%d receipts made, want %d", n, len(c.want))
			}
			for i := range c.want {
				if got[i] != c.want[i] {
					t.Fatalf("receipts for parts %v, want %v", got, c.want)
				}
			}
			recs := s.Recorder.Query(recorder.Filter{Command: "submit_sm"})
			if len(recs) != 3 || recs[0].UDH != "0500030903"+"01" {
				t.Fatalf("recorded UDH %+v", recs[0])
			}
		})
	}
}

func TestDataCoding0Meaning(t *testing.T) {
	s, addr := start(t, profile.Profile{DataCoding0: "latin1"})
	c := bound(t, addr, pdu.Transceiver)
	sm := smpptest.NewSubmit(t, "TEST", "447700900123", "", 0)
	// 0xE9 is é in Latin-1 but a different character in GSM 03.38.
	if err := sm.Message.SetMessageDataWithEncoding([]byte{'c', 'a', 'f', 0xE9}, data.GSM7BIT); err != nil {
		t.Fatal(err)
	}
	c.Send(sm)
	c.Expect(data.SUBMIT_SM_RESP, wait)
	if r := s.Recorder.Query(recorder.Filter{Command: "submit_sm"}); r[0].Text != "café" {
		t.Fatalf("latin1 data_coding 0 read as %q", r[0].Text)
	}
}
