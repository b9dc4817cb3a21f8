package replay

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"

	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

func enquire(seq int32) []byte { return wire.HeaderOnly(data.ENQUIRE_LINK, 0, seq) }

// PDUs spanning writes and several in one write come out whole, in order,
// each with the time of the write that completed it.
func TestSplitterSpansAndBatches(t *testing.T) {
	resp := wire.MessageIDResp(nil, data.SUBMIT_SM_RESP, 0, 2, "12345")
	stream := append(append(enquire(1), resp...), enquire(3)...)
	var s Splitter
	t0 := time.Unix(100, 0)
	var got []Frame
	got = append(got, s.Write(t0, stream[:7])...)                     // header split
	got = append(got, s.Write(t0.Add(time.Second), stream[7:20])...)  // first done, second started
	got = append(got, s.Write(t0.Add(2*time.Second), stream[20:])...) // second and third
	if len(got) != 3 || s.Err() != nil || s.Partial() != 0 {
		t.Fatalf("got %d frames, err %v, partial %d", len(got), s.Err(), s.Partial())
	}
	if !bytes.Equal(got[1].Raw, resp) || !got[0].Time.Equal(t0.Add(time.Second)) || !got[2].Time.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("frames %+v", got)
	}
}

// A length that cannot be SMPP stops the splitter with an error, keeping
// what came before.
func TestSplitterStopsOnGarbage(t *testing.T) {
	bad := make([]byte, 16)
	binary.BigEndian.PutUint32(bad, 3)
	got, err := SplitPDUs(append(enquire(1), bad...))
	if len(got) != 1 || err == nil {
		t.Fatalf("got %d frames, err %v", len(got), err)
	}
	// TLS: a ClientHello starts 0x16 0x03 0x01, a length far above the limit.
	if _, err := SplitPDUs([]byte{0x16, 0x03, 0x01, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}); err == nil {
		t.Fatal("TLS record taken for SMPP")
	}
}

// FuzzSplitPDUs: any bytes, cut anywhere, never panic; every frame is a
// whole PDU whose command_length is its size; frames and the held partial
// never add up to more than was written, and cutting the input differently
// gives the same frames.
func FuzzSplitPDUs(f *testing.F) {
	f.Add(append(enquire(1), wire.MessageIDResp(nil, data.SUBMIT_SM_RESP, 0, 2, "1")...), uint8(5))
	f.Add([]byte{0, 0, 0, 16, 0x80, 0, 0, 4}, uint8(3))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, cut uint8) {
		whole, errWhole := SplitPDUs(b)
		var s Splitter
		var parts []Frame
		step := int(cut)%17 + 1
		for i := 0; i < len(b); i += step {
			parts = append(parts, s.Write(time.Time{}, b[i:min(i+step, len(b))])...)
		}
		total := 0
		for _, fr := range parts {
			if len(fr.Raw) < wire.HeaderLen || int(binary.BigEndian.Uint32(fr.Raw)) != len(fr.Raw) {
				t.Fatalf("frame of %d bytes says %d", len(fr.Raw), binary.BigEndian.Uint32(fr.Raw))
			}
			total += len(fr.Raw)
		}
		if total+s.Partial() > len(b) {
			t.Fatalf("frames %d + partial %d > input %d", total, s.Partial(), len(b))
		}
		if len(parts) != len(whole) || (errWhole == nil) != (s.Err() == nil) {
			t.Fatalf("cut every %d: %d frames (err %v), whole: %d (err %v)", step, len(parts), s.Err(), len(whole), errWhole)
		}
		for i := range parts {
			if !bytes.Equal(parts[i].Raw, whole[i].Raw) {
				t.Fatalf("frame %d differs", i)
			}
		}
	})
}
