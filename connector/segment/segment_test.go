package segment

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// textOf returns the text octets of a part (short_message or
// message_payload, UDH removed).
func textOf(t *testing.T, p Part) []byte {
	t.Helper()
	_, data, err := splitUDH(p)
	if err != nil {
		t.Fatalf("splitUDH: %v", err)
	}
	return data
}

func TestSegmentCounts(t *testing.T) {
	rep := strings.Repeat
	tests := []struct {
		name, text, enc, seg string
		wantSizes            []int // text octets per part (UDH excluded)
	}{
		{"gsm7 160 is one part", rep("a", 160), "gsm7", "udh8", []int{160}},
		{"gsm7 161 is two parts", rep("a", 161), "gsm7", "udh8", []int{153, 8}},
		{"gsm7 306 is two parts", rep("a", 306), "gsm7", "udh8", []int{153, 153}},
		{"gsm7 307 is three parts", rep("a", 307), "gsm7", "udh8", []int{153, 153, 1}},
		{"gsm7 sar 306", rep("a", 306), "gsm7", "sar", []int{153, 153}},
		{"gsm7 sar 307", rep("a", 307), "gsm7", "sar", []int{153, 153, 1}},
		{"gsm7 udh16 304", rep("a", 304), "gsm7", "udh16", []int{152, 152}},
		{"gsm7 udh16 305", rep("a", 305), "gsm7", "udh16", []int{152, 152, 1}},
		{"gsm7 80 euro is 160 septets, one part", rep("€", 80), "gsm7", "udh8", []int{160}},
		{"gsm7 81 euro is 162 septets, two parts", rep("€", 81), "gsm7", "udh8", []int{152, 10}},
		{"auto 161 stays gsm7", rep("a", 161), "auto", "udh8", []int{153, 8}},
		{"ucs2 70 is one part", rep("ж", 70), "ucs2", "udh8", []int{140}},
		{"ucs2 71 is two parts", rep("ж", 71), "ucs2", "udh8", []int{134, 8}},
		{"ucs2 134 is two parts", rep("ж", 134), "ucs2", "udh8", []int{134, 134}},
		{"ucs2 135 is three parts", rep("ж", 135), "ucs2", "udh8", []int{134, 134, 2}},
		{"ucs2 udh16 71", rep("ж", 71), "ucs2", "udh16", []int{132, 10}},
		{"ucs2 sar 71", rep("ж", 71), "ucs2", "sar", []int{134, 8}},
		{"auto with one non-gsm char is ucs2", rep("a", 70) + "ç", "auto", "udh8", []int{134, 8}},
		{"latin1 140 is one part", rep("é", 140), "latin1", "udh8", []int{140}},
		{"latin1 141 is two parts", rep("é", 141), "latin1", "udh8", []int{134, 7}},
		{"latin1 udh16 141", rep("é", 141), "latin1", "udh16", []int{133, 8}},
		{"payload short is plain", rep("a", 160), "gsm7", "payload", []int{160}},
		{"payload long is one part", rep("a", 1000), "gsm7", "payload", []int{1000}},
		{"payload ucs2", rep("😀", 100), "ucs2", "payload", []int{400}},
		{"empty", "", "gsm7", "udh8", []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts, err := Segment(tt.text, tt.enc, tt.seg, 7)
			if err != nil {
				t.Fatal(err)
			}
			var sizes []int
			for _, p := range parts {
				sizes = append(sizes, len(textOf(t, p)))
				if len(p.Message) > 160 || (p.DataCoding != DataCodingGSM7 && len(p.Message) > 140) {
					t.Errorf("short_message of %d octets (data_coding 0x%02X) is too long", len(p.Message), p.DataCoding)
				}
			}
			if !reflect.DeepEqual(sizes, tt.wantSizes) {
				t.Fatalf("part sizes %v, want %v", sizes, tt.wantSizes)
			}
		})
	}
}

// A part never ends between the escape and its code, nor between the halves
// of a surrogate pair: each part decodes on its own.
func TestSegmentKeepsPairsWhole(t *testing.T) {
	rep := strings.Repeat
	tests := []struct {
		name, text, enc, seg string
		wantSizes            []int
	}{
		// 152 'a' then '€': the escape would be octet 153, the last of part 1.
		{"escape at udh8 boundary", rep("a", 152) + "€" + rep("b", 10), "gsm7", "udh8", []int{152, 12}},
		{"escape just fits udh8", rep("a", 151) + "€" + rep("b", 10), "gsm7", "udh8", []int{153, 10}},
		{"escape at udh16 boundary", rep("a", 151) + "€" + rep("b", 10), "gsm7", "udh16", []int{151, 12}},
		{"escape at sar boundary", rep("a", 152) + "[" + rep("b", 10), "gsm7", "sar", []int{152, 12}},
		{"all escapes", rep("€", 200), "gsm7", "udh8", []int{152, 152, 96}},
		// 70 emoji = 280 octets: 134 would split the 34th pair, so 132 per part.
		{"70 emoji udh8", rep("😀", 70), "ucs2", "udh8", []int{132, 132, 16}},
		{"70 emoji sar", rep("😀", 70), "ucs2", "sar", []int{132, 132, 16}},
		{"70 emoji udh16", rep("😀", 70), "ucs2", "udh16", []int{132, 132, 16}},
		{"emoji at odd offset", "a" + rep("😀", 70), "auto", "udh8", []int{134, 132, 16}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts, err := Segment(tt.text, tt.enc, tt.seg, 0xABCD)
			if err != nil {
				t.Fatal(err)
			}
			var sizes []int
			var joined strings.Builder
			for i, p := range parts {
				data := textOf(t, p)
				sizes = append(sizes, len(data))
				if p.DataCoding == DataCodingUCS2 && len(data) > 134 {
					t.Errorf("part %d: %d octets of UCS2", i+1, len(data))
				}
				s, err := Decode(p.DataCoding, data, "gsm7")
				if err != nil {
					t.Fatalf("part %d does not decode alone: %v", i+1, err)
				}
				joined.WriteString(s)
			}
			if !reflect.DeepEqual(sizes, tt.wantSizes) {
				t.Fatalf("part sizes %v, want %v", sizes, tt.wantSizes)
			}
			if joined.String() != tt.text {
				t.Fatalf("parts join to %q", joined.String())
			}
		})
	}
}

func TestSegmentHeaders(t *testing.T) {
	text := strings.Repeat("a", 153) + "bcdefghi" // 161 septets: 153 + 8 (udh8/sar), 152 + 9 (udh16)
	a153 := []byte(strings.Repeat("a", 153))
	a152 := []byte(strings.Repeat("a", 152))
	cat := func(b ...[]byte) []byte { return bytes.Join(b, nil) }
	tests := []struct {
		seg  string
		want []Part
	}{
		{"udh8", []Part{
			{EsmClass: 0x40, DataCoding: 0, Message: cat([]byte{0x05, 0x00, 0x03, 0x34, 0x02, 0x01}, a153)},
			{EsmClass: 0x40, DataCoding: 0, Message: []byte{0x05, 0x00, 0x03, 0x34, 0x02, 0x02, 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'}},
		}},
		{"udh16", []Part{
			{EsmClass: 0x40, DataCoding: 0, Message: cat([]byte{0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x01}, a152)},
			{EsmClass: 0x40, DataCoding: 0, Message: []byte{0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x02, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'}},
		}},
		{"sar", []Part{
			{DataCoding: 0, Message: a153, TLVs: []TLV{
				{Tag: 0x020C, Value: []byte{0x12, 0x34}}, {Tag: 0x020E, Value: []byte{0x02}}, {Tag: 0x020F, Value: []byte{0x01}}}},
			{DataCoding: 0, Message: []byte("bcdefghi"), TLVs: []TLV{
				{Tag: 0x020C, Value: []byte{0x12, 0x34}}, {Tag: 0x020E, Value: []byte{0x02}}, {Tag: 0x020F, Value: []byte{0x02}}}},
		}},
		{"payload", []Part{
			{DataCoding: 0, Message: []byte{}, TLVs: []TLV{{Tag: 0x0424, Value: cat(a153, []byte("bcdefghi"))}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.seg, func(t *testing.T) {
			got, err := Segment(text, "gsm7", tt.seg, 0x1234)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Segment(%s):\n got %+v\nwant %+v", tt.seg, got, tt.want)
			}
		})
	}

	// UCS2 udh8, byte for byte; the emoji would straddle octet 134.
	got, err := Segment(strings.Repeat("ж", 66)+"😀"+"жжж", "ucs2", "udh8", 0x01FF)
	if err != nil {
		t.Fatal(err)
	}
	want := []Part{
		{EsmClass: 0x40, DataCoding: 8, Message: cat([]byte{0x05, 0x00, 0x03, 0xFF, 0x02, 0x01}, bytes.Repeat([]byte{0x04, 0x36}, 66))},
		{EsmClass: 0x40, DataCoding: 8, Message: []byte{0x05, 0x00, 0x03, 0xFF, 0x02, 0x02, 0xD8, 0x3D, 0xDE, 0x00, 0x04, 0x36, 0x04, 0x36, 0x04, 0x36}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ucs2 udh8:\n got %+v\nwant %+v", got, want)
	}

	// A single-part text has no UDH, SAR or payload whatever the segmentation.
	for _, seg := range []string{"udh8", "udh16", "sar", "payload"} {
		got, err := Segment("hi€", "gsm7", seg, 1)
		if err != nil {
			t.Fatal(err)
		}
		want := []Part{{DataCoding: 0, Message: []byte{0x68, 0x69, 0x1B, 0x65}}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s single part: got %+v", seg, got)
		}
	}
}

func TestSegmentErrors(t *testing.T) {
	tests := []struct {
		name, text, enc, seg, wantErr string
	}{
		{"unknown segmentation", "a", "gsm7", "udh4", `segmentation "udh4" unknown`},
		{"unencodable", "aç", "gsm7", "udh8", "cannot encode 'ç' (U+00E7) at character 1"},
		{"too many parts", strings.Repeat("a", 153*255+1), "gsm7", "udh8", "udh8: text needs 256 parts, at most 255 allowed"},
		{"payload too long", strings.Repeat("a", 0x10000), "gsm7", "payload", "payload: text is 65536 octets, message_payload holds at most 65535"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Segment(tt.text, tt.enc, tt.seg, 1)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
	if p, err := Segment(strings.Repeat("a", 153*255), "gsm7", "udh8", 1); err != nil || len(p) != 255 {
		t.Fatalf("255 parts: %d, %v", len(p), err)
	}
}

func sarTLVs(ref []byte, total, seq []byte) []TLV {
	return []TLV{{Tag: 0x020C, Value: ref}, {Tag: 0x020E, Value: total}, {Tag: 0x020F, Value: seq}}
}

func TestConcat(t *testing.T) {
	tests := []struct {
		name      string
		p         Part
		wantRef   uint16
		wantTotal int
		wantSeq   int
		wantOK    bool
		wantErr   string
	}{
		{"plain", Part{Message: []byte("hi")}, 0, 0, 0, false, ""},
		{"udh8", Part{EsmClass: 0x40, Message: []byte{5, 0, 3, 0xAB, 3, 2, 'x'}}, 0xAB, 3, 2, true, ""},
		{"udh16", Part{EsmClass: 0x40, Message: []byte{6, 8, 4, 0xAB, 0xCD, 3, 3, 'x'}}, 0xABCD, 3, 3, true, ""},
		{"udhi in esm_class with other bits", Part{EsmClass: 0x44, Message: []byte{5, 0, 3, 1, 2, 1}}, 1, 2, 1, true, ""},
		{"udh after port IE", Part{EsmClass: 0x40, Message: []byte{11, 5, 4, 0x0B, 0x84, 0x23, 0xF0, 0, 3, 9, 2, 1, 'x'}}, 9, 2, 1, true, ""},
		{"udh with only port IE", Part{EsmClass: 0x40, Message: []byte{6, 5, 4, 0x0B, 0x84, 0x23, 0xF0, 'x'}}, 0, 0, 0, false, ""},
		{"udh in message_payload", Part{EsmClass: 0x40, TLVs: []TLV{{Tag: 0x0424, Value: []byte{5, 0, 3, 7, 2, 2, 'x'}}}}, 7, 2, 2, true, ""},
		{"sar", Part{Message: []byte("x"), TLVs: sarTLVs([]byte{1, 2}, []byte{4}, []byte{4})}, 0x0102, 4, 4, true, ""},
		{"udh and agreeing sar", Part{EsmClass: 0x40, Message: []byte{5, 0, 3, 1, 2, 1}, TLVs: sarTLVs([]byte{0, 1}, []byte{2}, []byte{1})}, 1, 2, 1, true, ""},
		{"sar without udhi ignores udh-like bytes", Part{Message: []byte{5, 0, 3, 1, 2, 1}}, 0, 0, 0, false, ""},

		{"udhi with empty message", Part{EsmClass: 0x40}, 0, 0, 0, false, "udh: esm_class 0x40 has UDHI set but short_message is empty"},
		{"udhl beyond data", Part{EsmClass: 0x40, Message: []byte{9, 0, 3, 1, 2}}, 0, 0, 0, false, "udh: length 9 exceeds short_message of 5 octets"},
		{"udhl beyond payload", Part{EsmClass: 0x40, TLVs: []TLV{{Tag: 0x0424, Value: []byte{200}}}}, 0, 0, 0, false, "udh: length 200 exceeds message_payload of 1 octets"},
		{"ie length beyond udh", Part{EsmClass: 0x40, Message: []byte{5, 0, 4, 1, 2, 1, 'x'}}, 0, 0, 0, false, "udh: IE 0x00 length 4 exceeds UDH (3 octets left)"},
		{"ie header truncated", Part{EsmClass: 0x40, Message: []byte{6, 0, 3, 1, 2, 1, 0x08}}, 0, 0, 0, false, "udh: IE header at offset 5 truncated (UDH is 6 octets)"},
		{"udh8 wrong ie length", Part{EsmClass: 0x40, Message: []byte{4, 0, 2, 1, 2}}, 0, 0, 0, false, "udh: concatenation IE 0x00 has length 2, want 3"},
		{"udh16 wrong ie length", Part{EsmClass: 0x40, Message: []byte{5, 8, 3, 1, 2, 1}}, 0, 0, 0, false, "udh: concatenation IE 0x08 has length 3, want 4"},
		{"udh total 0", Part{EsmClass: 0x40, Message: []byte{5, 0, 3, 1, 0, 0}}, 0, 0, 0, false, "udh: total segments is 0"},
		{"udh seq 0", Part{EsmClass: 0x40, Message: []byte{5, 0, 3, 1, 2, 0}}, 0, 0, 0, false, "udh: segment number is 0"},
		{"udh seq > total", Part{EsmClass: 0x40, Message: []byte{5, 0, 3, 1, 2, 3}}, 0, 0, 0, false, "udh: segment number 3 exceeds total 2"},
		{"two concat IEs", Part{EsmClass: 0x40, Message: []byte{11, 0, 3, 1, 2, 1, 8, 4, 0, 1, 2, 1}}, 0, 0, 0, false, "more than one concatenation IE"},
		{"sar missing seqnum", Part{TLVs: sarTLVs([]byte{0, 1}, []byte{2}, []byte{1})[:2]}, 0, 0, 0, false, "sar: sar_segment_seqnum (0x020F) missing"},
		{"sar missing ref", Part{TLVs: sarTLVs([]byte{0, 1}, []byte{2}, []byte{1})[1:]}, 0, 0, 0, false, "sar: sar_msg_ref_num (0x020C) missing"},
		{"sar ref 1 octet", Part{TLVs: sarTLVs([]byte{1}, []byte{2}, []byte{1})}, 0, 0, 0, false, "sar: sar_msg_ref_num (0x020C) has 1 octets, want 2"},
		{"sar total 2 octets", Part{TLVs: sarTLVs([]byte{0, 1}, []byte{0, 2}, []byte{1})}, 0, 0, 0, false, "sar: sar_total_segments (0x020E) has 2 octets, want 1"},
		{"sar seq > total", Part{TLVs: sarTLVs([]byte{0, 1}, []byte{2}, []byte{5})}, 0, 0, 0, false, "sar: segment number 5 exceeds total 2"},
		{"sar total 0", Part{TLVs: sarTLVs([]byte{0, 1}, []byte{0}, []byte{1})}, 0, 0, 0, false, "sar: total segments is 0"},
		{"udh and sar disagree", Part{EsmClass: 0x40, Message: []byte{5, 0, 3, 1, 2, 1}, TLVs: sarTLVs([]byte{0, 1}, []byte{2}, []byte{2})}, 0, 0, 0, false, "UDH concatenation (ref 1, 1/2) and SAR TLVs (ref 1, 2/2) disagree"},
		{"short_message and payload", Part{Message: []byte("a"), TLVs: []TLV{{Tag: 0x0424, Value: []byte("b")}}}, 0, 0, 0, false, "both short_message (1 octets) and message_payload (1 octets) present"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, total, seq, ok, err := Concat(tt.p)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr && !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if ok {
					t.Fatal("ok with error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ref != tt.wantRef || total != tt.wantTotal || seq != tt.wantSeq || ok != tt.wantOK {
				t.Fatalf("Concat = %d %d %d %v, want %d %d %d %v", ref, total, seq, ok, tt.wantRef, tt.wantTotal, tt.wantSeq, tt.wantOK)
			}
		})
	}
}

// Concat reads back what Segment wrote.
func TestConcatOfSegment(t *testing.T) {
	for _, seg := range []string{"udh8", "udh16", "sar"} {
		parts, err := Segment(strings.Repeat("x", 400), "gsm7", seg, 0x1234)
		if err != nil {
			t.Fatal(err)
		}
		wantRef := uint16(0x1234)
		if seg == "udh8" {
			wantRef = 0x34
		}
		for i, p := range parts {
			ref, total, seq, ok, err := Concat(p)
			if err != nil || !ok || ref != wantRef || total != 3 || seq != i+1 {
				t.Fatalf("%s part %d: Concat = %#x %d %d %v %v", seg, i+1, ref, total, seq, ok, err)
			}
		}
	}
}
