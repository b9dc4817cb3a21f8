package wire

import (
	"bytes"
	"testing"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
)

// The hand encoders must produce what gosmpp's parser reads back field by field.
func TestDeliverSMParsesWithGosmpp(t *testing.T) {
	d := DeliverSM{
		SrcTON: 1, SrcNPI: 1, Src: "447700900123", DstTON: 5, Dst: "ACME",
		EsmClass: 0x04, DataCoding: 0, Message: []byte("id:1 stat:DELIVRD err:000"),
		TLVs: []TLV{{Tag: 0x001E, Value: []byte("1\x00")}, {Tag: 0x0427, Value: []byte{2}}},
	}
	raw := d.Append(nil, 99)
	f, err := ReadFrame(bytes.NewReader(raw), 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	dl := p.(*pdu.DeliverSM)
	msg, _ := dl.Message.GetMessageData()
	if dl.GetSequenceNumber() != 99 || dl.SourceAddr.Address() != "447700900123" || dl.DestAddr.Address() != "ACME" ||
		dl.DestAddr.Ton() != 5 || dl.EsmClass != 0x04 || string(msg) != "id:1 stat:DELIVRD err:000" {
		t.Fatalf("%+v msg %q", dl, msg)
	}
	if v := dl.OptionalParameters[pdu.TagReceiptedMessageID]; string(v.Data) != "1\x00" {
		t.Fatalf("receipted_message_id %q", v.Data)
	}
	if v := dl.OptionalParameters[pdu.TagMessageStateOption]; len(v.Data) != 1 || v.Data[0] != 2 {
		t.Fatalf("message_state %v", v.Data)
	}
}

// A data_sm receipt: the body fields of SMPP 3.4 4.7.1 byte by byte, the
// text in message_payload ahead of the other TLVs, and gosmpp reads it back.
func TestDataSMEncoding(t *testing.T) {
	d := DeliverSM{AsDataSM: true,
		SrcTON: 1, SrcNPI: 1, Src: "4477", DstTON: 5, Dst: "AC",
		EsmClass: 0x04, DataCoding: 8, Message: []byte("id:1"),
		TLVs: []TLV{{Tag: 0x001E, Value: []byte("1\x00")}},
	}
	raw := d.Append(nil, 5)
	want := []byte{
		0, 0, 0, 46, 0, 0, 1, 3, 0, 0, 0, 0, 0, 0, 0, 5, // header: data_sm
		0,                           // service_type
		1, 1, '4', '4', '7', '7', 0, // source
		5, 0, 'A', 'C', 0, // destination
		0x04, 0, 8, // esm_class, registered_delivery, data_coding
		0x04, 0x24, 0, 4, 'i', 'd', ':', '1', // message_payload
		0x00, 0x1E, 0, 2, '1', 0, // receipted_message_id
	}
	if !bytes.Equal(raw, want) {
		t.Fatalf("got  % X\nwant % X", raw, want)
	}
	if d.Command() != data.DATA_SM {
		t.Fatal("command")
	}
	f, err := ReadFrame(bytes.NewReader(raw), 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	ds := p.(*pdu.DataSM)
	if ds.SourceAddr.Address() != "4477" || ds.DestAddr.Address() != "AC" || ds.EsmClass != 4 || ds.DataCoding != 8 ||
		string(ds.OptionalParameters[pdu.TagMessagePayload].Data) != "id:1" {
		t.Fatalf("%+v", ds)
	}
}

func TestMessageIDResp(t *testing.T) {
	raw := MessageIDResp(nil, data.SUBMIT_SM_RESP, data.ESME_ROK, 7, "abc")
	f, _ := ReadFrame(bytes.NewReader(raw), 0)
	p, err := Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if r := p.(*pdu.SubmitSMResp); r.MessageID != "abc" || r.GetSequenceNumber() != 7 {
		t.Fatalf("%+v", r)
	}
	raw = MessageIDResp(nil, data.SUBMIT_SM_RESP, data.ESME_RTHROTTLED, 8, "abc")
	if len(raw) != 17 {
		t.Fatalf("error resp carries an id: %q", raw)
	}
}

func BenchmarkDeliverSMAppend(b *testing.B) {
	d := DeliverSM{Src: "447700900123", Dst: "ACME", EsmClass: 4, Message: make([]byte, 120),
		TLVs: []TLV{{Tag: 0x001E, Value: []byte("123456\x00")}, {Tag: 0x0427, Value: []byte{2}}}}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = d.Append(buf[:0], int32(i))
	}
}
