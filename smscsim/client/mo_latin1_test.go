package client_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/api"
	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
)

// A two-part MO from an operator whose data_coding 0 is Latin-1, asked for
// through the client as a connector test would: both deliver_sm carry
// data_coding 0, an 8-bit concatenation UDH and the text in ISO-8859-1, one
// octet per character (é is 0xE9, ñ 0xF1, ü 0xFC: not GSM 03.38).
func TestTwoPartLatin1MO(t *testing.T) {
	e := start(t, "", func(c *server.Config) { c.Operators[0].Profile = profile.Profile{Style: "latin1-mo"} })
	c := ctx(t)
	rx, _ := bind(t, e.addr("acme"), "shop", "test")
	text := strings.Repeat("café ñ ü ", 20) // 180 characters: two parts of at most 134
	if _, err := e.c.InjectMO(c, "acme", api.MO{Source: "447700900001", Dest: "ACME", Text: text}); err != nil {
		t.Fatal(err)
	}
	var got []byte
	var ref byte
	for i := 1; i <= 2; i++ {
		d := rx.Expect(data.DELIVER_SM, wait).(*pdu.DeliverSM)
		rx.AckDeliver(d, data.ESME_ROK)
		if dc := d.Message.Encoding().DataCoding(); dc != 0 || d.EsmClass != 0x40 {
			t.Fatalf("part %d: data_coding %d esm_class 0x%02x", i, dc, d.EsmClass)
		}
		udh, err := d.Message.UDH().MarshalBinary()
		if err != nil || len(udh) != 6 || !bytes.Equal(udh[:3], []byte{5, 0, 3}) || udh[4] != 2 || udh[5] != byte(i) {
			t.Fatalf("part %d: UDH % X %v", i, udh, err)
		}
		if i == 1 {
			ref = udh[3]
		} else if udh[3] != ref {
			t.Fatalf("part 2 ref %d, part 1 %d", udh[3], ref)
		}
		octets, _ := d.Message.GetMessageData()
		got = append(got, octets...)
	}
	want := bytes.Repeat([]byte("caf\xE9 \xF1 \xFC "), 20)
	if !bytes.Equal(got, want) {
		t.Fatalf("octets\n% X\nwant\n% X", got, want)
	}
	rx.ExpectQuiet(wait)
}
