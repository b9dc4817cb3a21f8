package inbound_test

import (
	"bytes"
	"encoding/base64"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/connector/internal/pipelinetest"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// deliverSM sends the handler a deliver_sm as the SMSC's bytes would carry it.
func deliverSM(t *testing.T, r *pipelinetest.Rig, d wire.DeliverSM) data.CommandStatusType {
	t.Helper()
	f, err := wire.ReadFrame(bytes.NewReader(d.Append(nil, 1)), 4096)
	if err != nil {
		t.Fatal(err)
	}
	p, err := wire.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return r.Inbound.HandleDeliver(p.(*pdu.DeliverSM), time.Now())
}

// An MO whose text cannot be decoded, or whose UDH cannot be read, is
// published with its octets and the reason: never answered OK and dropped.
func TestUndecodableMOIsPublishedRaw(t *testing.T) {
	r := newRig(t, pipelinetest.Options{})
	cases := []struct {
		name    string
		esm, dc byte
		message []byte
		wantB64 []byte // the octets published
		wantDC  float64
	}{
		{"binary data_coding 0x04", 0, 0x04, []byte{0x01, 0x02, 0xFF}, []byte{0x01, 0x02, 0xFF}, 4},
		{"GSM 7-bit octet above 0x7F", 0, 0x00, []byte("ok\x80"), []byte("ok\x80"), 0},
		// A concatenation IE saying part 3 of 2: it can never complete.
		{"concatenation part beyond its total", 0x40, 0x00, []byte{0x05, 0x00, 0x03, 0x01, 0x02, 0x03, 'x'}, []byte{0x05, 0x00, 0x03, 0x01, 0x02, 0x03, 'x'}, 0},
	}
	for i, c := range cases {
		src := "44770090010" + string(rune('0'+i))
		if st := deliverSM(t, r, wire.DeliverSM{SrcTON: 1, SrcNPI: 1, Src: src, DstTON: 5, Dst: "ACME",
			EsmClass: c.esm, DataCoding: c.dc, Message: c.message}); st != data.ESME_ROK {
			t.Fatalf("%s: %v", c.name, st)
		}
	}
	got := r.WaitEvents(t, natscontract.EventsStream, natscontract.MOSubject, len(cases))
	for i, c := range cases {
		e := got[i]
		if e["text"] != "" || e["decodeError"] == nil || e["dataCoding"] != c.wantDC ||
			e["payloadBase64"] != base64.StdEncoding.EncodeToString(c.wantB64) {
			t.Errorf("%s: event %v", c.name, e)
		}
	}
}
