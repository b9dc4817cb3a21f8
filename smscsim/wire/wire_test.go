package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
)

func submit(t testing.TB, text string) []byte {
	t.Helper()
	p := pdu.NewSubmitSM().(*pdu.SubmitSM)
	_ = p.DestAddr.SetAddress("447700900123")
	if err := p.Message.SetMessageWithEncoding(text, data.GSM7BIT); err != nil {
		t.Fatal(err)
	}
	p.SetSequenceNumber(42)
	return Encode(p)
}

func TestReadFrameAndDecodeRoundTrip(t *testing.T) {
	raw := submit(t, "hello")
	f, err := ReadFrame(bytes.NewReader(raw), 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	sm, ok := p.(*pdu.SubmitSM)
	if !ok {
		t.Fatalf("got %T", p)
	}
	if sm.GetSequenceNumber() != 42 || sm.DestAddr.Address() != "447700900123" {
		t.Fatalf("seq %d dest %q", sm.GetSequenceNumber(), sm.DestAddr.Address())
	}
}

func TestReadFrameRejectsBadLength(t *testing.T) {
	for _, n := range []uint32{0, 15, DefaultMaxLen + 1, 0xFFFFFFFF} {
		b := HeaderOnly(data.ENQUIRE_LINK, 0, 7)
		binary.BigEndian.PutUint32(b, n)
		f, err := ReadFrame(bytes.NewReader(b), 0)
		if !errors.Is(err, ErrLengthOutOfRange) {
			t.Fatalf("length %d: err %v", n, err)
		}
		if f.Header.SequenceNumber != 7 {
			t.Fatalf("length %d: header not returned: %+v", n, f.Header)
		}
	}
}

func TestReadFrameTruncatedBody(t *testing.T) {
	raw := submit(t, "hello")
	_, err := ReadFrame(bytes.NewReader(raw[:len(raw)-3]), 0)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err %v", err)
	}
}

func TestDecodeUnknownCommand(t *testing.T) {
	b := HeaderOnly(0x00000666, 0, 1)
	f, err := ReadFrame(bytes.NewReader(b), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(f); !errors.Is(err, ErrUnknownCommand) {
		t.Fatalf("err %v", err)
	}
}

func TestDecodeBodyShorterThanFields(t *testing.T) {
	// submit_sm whose command_length says 20: the mandatory fields are missing.
	b := append(HeaderOnly(data.SUBMIT_SM, 0, 3), 0, 0, 0, 0)
	binary.BigEndian.PutUint32(b, uint32(len(b)))
	f, err := ReadFrame(bytes.NewReader(b), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(f); err == nil {
		t.Fatal("decoded a submit_sm with no body")
	}
}

func TestNamesRoundTrip(t *testing.T) {
	id, err := ParseCommand("Submit_SM")
	if err != nil || id != data.SUBMIT_SM || CommandName(id) != "submit_sm" {
		t.Fatalf("%v %v %q", id, err, CommandName(id))
	}
	s, err := ParseStatus("esme_rthrottled")
	if err != nil || s != data.ESME_RTHROTTLED || StatusName(s) != "ESME_RTHROTTLED" {
		t.Fatalf("%v %v", s, err)
	}
	if s, err := ParseStatus("0x14"); err != nil || s != data.ESME_RMSGQFUL {
		t.Fatalf("%v %v", s, err)
	}
	if _, err := ParseStatus("ESME_NOPE"); err == nil {
		t.Fatal("accepted an unknown status")
	}
}

// FuzzReadPDU drives the whole reading path (framing + decoding) with arbitrary
// bytes: it must never panic and must never return a PDU longer than it read.
func FuzzReadPDU(f *testing.F) {
	f.Add(submit(f, "hello"))
	f.Add(HeaderOnly(data.ENQUIRE_LINK, 0, 1))
	f.Add(HeaderOnly(data.BIND_TRANSCEIVER, 0, 1))
	dl := pdu.NewDeliverSM().(*pdu.DeliverSM)
	dl.EsmClass = 0x40
	f.Add(Encode(dl))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		for {
			fr, err := ReadFrame(r, 4096)
			if err != nil {
				return
			}
			if int(fr.Header.CommandLength) != len(fr.Raw) {
				t.Fatalf("frame length %d != header %d", len(fr.Raw), fr.Header.CommandLength)
			}
			_, _ = Decode(fr)
		}
	})
}
