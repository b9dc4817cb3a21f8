package inbound_test

import (
	"strings"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/connector/internal/pipelinetest"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/segment"
)

// dataSM builds a data_sm as an SMSC sends an MO in one: no short_message,
// the text (its UDH first, with UDHI) in message_payload, or spread over
// data_sm by the sar_* TLVs.
func dataSM(t *testing.T, esmClass, dataCoding byte, tlvs []segment.TLV) *pdu.DataSM {
	t.Helper()
	d := pdu.NewDataSM().(*pdu.DataSM)
	if err := d.SourceAddr.SetAddress("447700900555"); err != nil {
		t.Fatal(err)
	}
	d.SourceAddr.SetTon(1)
	d.SourceAddr.SetNpi(1)
	if err := d.DestAddr.SetAddress("ACME"); err != nil {
		t.Fatal(err)
	}
	d.EsmClass, d.DataCoding = esmClass, dataCoding
	for _, tlv := range tlvs {
		d.RegisterOptionalParam(pdu.Field{Tag: pdu.Tag(tlv.Tag), Data: tlv.Value})
	}
	return d
}

// An MO in a data_sm is published as one in a deliver_sm is: single, and
// segmented by SAR TLVs and by a UDH inside message_payload. (Answered OK
// and dropped before.)
func TestDataSMMO(t *testing.T) {
	r := newRig(t, pipelinetest.Options{})
	ucs2, err := segment.Segment("Grüße über data_sm ✓", "ucs2", "payload", 1)
	if err != nil || len(ucs2) != 1 {
		t.Fatalf("%d parts, %v", len(ucs2), err)
	}
	payload := []segment.TLV{{Tag: segment.TagMessagePayload, Value: ucs2[0].Message}}
	if st := r.Inbound.HandleData(dataSM(t, 0, ucs2[0].DataCoding, payload), time.Now()); st != data.ESME_ROK {
		t.Fatalf("single data_sm MO: %v", st)
	}
	long := strings.Repeat("Several data_sm make one MO. ", 10)
	for i, strategy := range []string{"sar", "udh8"} {
		parts, err := segment.Segment(long, "gsm7", strategy, uint16(77+i))
		if err != nil || len(parts) < 2 {
			t.Fatalf("%s: %d parts, %v", strategy, len(parts), err)
		}
		for i, p := range parts {
			tlvs := p.TLVs
			if len(p.Message) > 0 { // a UDH part: its octets go in message_payload
				tlvs = append(tlvs, segment.TLV{Tag: segment.TagMessagePayload, Value: p.Message})
			}
			if st := r.Inbound.HandleData(dataSM(t, p.EsmClass, p.DataCoding, tlvs), time.Now()); st != data.ESME_ROK {
				t.Fatalf("%s part %d: %v", strategy, i+1, st)
			}
		}
	}
	got := r.WaitEvents(t, natscontract.EventsStream, natscontract.MOSubject, 3)
	texts := map[any]int{}
	for _, e := range got {
		texts[e["text"]]++
	}
	if texts["Grüße über data_sm ✓"] != 1 || texts[long] != 2 {
		t.Fatalf("MO texts %v", texts)
	}
}
