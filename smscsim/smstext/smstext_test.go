package smstext

import (
	"bytes"
	"strings"
	"testing"
)

// The wire octets come from the specifications (TS 23.038 tables, UTF-16BE),
// written out by hand, not from another encoder.
func TestEncodeWire(t *testing.T) {
	cases := []struct {
		text, enc, dc0 string
		dc             byte
		want           []byte
	}{
		{"@A€{", "gsm7", "", 0, []byte{0x00, 0x41, 0x1B, 0x65, 0x1B, 0x28}},
		{"é¿ß", "default", "latin1", 0, []byte{0xE9, 0xBF, 0xDF}},
		{"é¿ß", "default", "", 0, []byte{0x05, 0x60, 0x1E}},
		{"é", "latin1", "", 3, []byte{0xE9}},
		{"hi", "ascii", "", 1, []byte{'h', 'i'}},
		{"a😀", "ucs2", "", 8, []byte{0x00, 0x61, 0xD8, 0x3D, 0xDE, 0x00}},
		{"漢", "auto", "", 8, []byte{0x6F, 0x22}},
	}
	for _, c := range cases {
		dc, got, err := Encode(c.text, c.enc, c.dc0)
		if err != nil || dc != c.dc || !bytes.Equal(got, c.want) {
			t.Errorf("Encode(%q, %s, %q) = %d % X, %v; want %d % X", c.text, c.enc, c.dc0, dc, got, err, c.dc, c.want)
			continue
		}
		back, err := Decode(dc, got, c.dc0)
		if err != nil || back != c.text {
			t.Errorf("Decode(%d, % X, %q) = %q, %v; want %q", dc, got, c.dc0, back, err, c.text)
		}
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	cases := []struct {
		dc     byte
		octets []byte
	}{
		{0, []byte{0x41, 0x80}},             // not a septet
		{0, []byte{0x41, 0x1B}},             // escape without code
		{8, []byte{0x00}},                   // odd UCS2
		{8, []byte{0xD8, 0x3D, 0x00, 0x41}}, // high surrogate then a letter
		{8, []byte{0xDE, 0x00}},             // lone low surrogate
		{1, []byte{0xE9}},                   // IA5 is 7-bit
		{4, []byte{0x00}},                   // binary: not text
	}
	for _, c := range cases {
		if s, err := Decode(c.dc, c.octets, ""); err == nil {
			t.Errorf("Decode(%d, % X) = %q, want an error", c.dc, c.octets, s)
		}
	}
	if _, err := EncodeAlphabet("a\x1bb", "gsm7"); err == nil {
		t.Error("U+001B encoded as GSM: it would become an escape")
	}
	// 0x1B 0x1B is a complete pair (shown as a space), not a dangling escape.
	if s, err := Decode(0, []byte{0x41, 0x1B, 0x1B}, ""); err != nil || s != "A " {
		t.Errorf("double escape: %q, %v", s, err)
	}
}

// Split sizes parts as TS 23.040 allows and never cuts a character;
// Reassemble gives the text back from the parts in any order.
func TestSplitReassemble(t *testing.T) {
	cases := []struct {
		name, text, enc, seg string
		parts                int
		per                  int // octets of text in the first part
	}{
		{"gsm 160 single", strings.Repeat("a", 160), "gsm7", "udh8", 1, 160},
		{"gsm 161 udh8", strings.Repeat("a", 161), "gsm7", "udh8", 2, 153},
		{"gsm 161 udh16", strings.Repeat("a", 161), "gsm7", "udh16", 2, 152},
		{"gsm 161 sar", strings.Repeat("a", 161), "gsm7", "sar", 2, 153},
		{"gsm escape at 153", strings.Repeat("a", 152) + "€" + strings.Repeat("b", 10), "gsm7", "udh8", 2, 152},
		{"ucs2 70 single", strings.Repeat("ж", 70), "ucs2", "udh8", 1, 140},
		{"ucs2 71 udh8", strings.Repeat("ж", 71), "ucs2", "udh8", 2, 134},
		{"ucs2 71 udh16", strings.Repeat("ж", 71), "ucs2", "udh16", 2, 132},
		{"surrogate at 67", strings.Repeat("ж", 66) + "😀" + strings.Repeat("x", 10), "ucs2", "udh8", 2, 132},
		{"latin1 dc0 141", strings.Repeat("é", 141), "default", "udh8", 2, 134},
		{"payload", strings.Repeat("a", 400), "gsm7", "payload", 1, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dc0 := ""
			if c.enc == "default" {
				dc0 = "latin1"
			}
			parts, err := Split(c.text, c.enc, c.seg, dc0, 0x1234)
			if err != nil {
				t.Fatal(err)
			}
			if len(parts) != c.parts {
				t.Fatalf("%d parts, want %d", len(parts), c.parts)
			}
			first, _ := Payload(parts[0])
			if len(first) != c.per {
				t.Errorf("first part holds %d octets, want %d", len(first), c.per)
			}
			rev := make([]Part, len(parts))
			for i, p := range parts {
				rev[len(parts)-1-i] = p
			}
			got, err := Reassemble(rev, dc0)
			if err != nil || got != c.text {
				t.Fatalf("Reassemble = %q, %v", got, err)
			}
		})
	}
}

func TestReassembleRefusesIncomplete(t *testing.T) {
	parts, err := Split(strings.Repeat("a", 400), "gsm7", "udh16", "", 7)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Reassemble(parts[:2], ""); err == nil {
		t.Error("2 of 3 parts reassembled")
	}
	if _, err := Reassemble([]Part{parts[0], parts[1], parts[1]}, ""); err == nil {
		t.Error("a repeated part reassembled")
	}
	bad := parts[0]
	bad.Message = append([]byte{9}, bad.Message[1:]...) // UDHL beyond its IEs
	if _, _, _, _, err := Concat(bad); err == nil {
		t.Error("UDH with a wrong length accepted")
	}
}

// The fast path of EncodeLossy copies ASCII it believes reads the same in the
// alphabet: the library's own table must agree, character by character.
func TestEncodeLossyFastPathAgreesWithTable(t *testing.T) {
	for _, alphabet := range []string{AlphabetGSM7, AlphabetLatin1, AlphabetASCII} {
		for c := 0; c < 0x80; c++ {
			s := string(rune(c))
			if !sameInAlphabet([]byte(s), alphabet) {
				continue
			}
			want, err := EncodeAlphabet(s, alphabet)
			if err != nil || len(want) != 1 || want[0] != byte(c) {
				t.Errorf("%s: %q is copied as 0x%02X but encodes as % X (%v)", alphabet, s, c, want, err)
			}
		}
	}
}

func TestEncodeLossy(t *testing.T) {
	for _, c := range []struct {
		text, alphabet string
		want           []byte
	}{
		{"id:1 stat:DELIVRD", AlphabetGSM7, []byte("id:1 stat:DELIVRD")},
		{"a@b_c€", AlphabetGSM7, []byte{'a', 0x00, 'b', 0x11, 'c', 0x1B, 0x65}},
		{"café ñ 日", AlphabetGSM7, []byte{'c', 'a', 'f', 0x05, ' ', 0x7D, ' ', '?'}},
		{"café 日", AlphabetLatin1, []byte{'c', 'a', 'f', 0xE9, ' ', '?'}},
		{"café", AlphabetASCII, []byte("caf?")},
		{"é", "ucs2", []byte{0x00, 0xE9}},
	} {
		if got := EncodeLossy([]byte(c.text), c.alphabet); !bytes.Equal(got, c.want) {
			t.Errorf("%s %q = % X want % X", c.alphabet, c.text, got, c.want)
		}
	}
}

// A receipt in data_coding 0 and GSM 03.38 is nearly always ASCII that reads
// the same: the fast path must cost no allocation.
func BenchmarkEncodeLossyReceipt(b *testing.B) {
	text := []byte("id:1234567 sub:001 dlvrd:001 submit date:2611261001 done date:2611261001 stat:DELIVRD err:000 text:Hello world, this is")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if len(EncodeLossy(text, AlphabetGSM7)) != len(text) {
			b.Fatal("changed")
		}
	}
}
