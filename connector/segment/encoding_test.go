package segment

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/linxGnu/gosmpp/data"
)

func TestEncode(t *testing.T) {
	tests := []struct {
		name, text, enc string
		wantDC          byte
		want            []byte
		wantErr         string // substring; "" means success
	}{
		{"gsm7 ascii", "Hi @$", "gsm7", 0x00, []byte{0x48, 0x69, 0x20, 0x00, 0x02}, ""},
		{"gsm7 basic non-ascii", "£¥èΔÉÄüà¡¿§¤", "gsm7", 0x00, []byte{0x01, 0x03, 0x04, 0x10, 0x1F, 0x5B, 0x7E, 0x7F, 0x40, 0x60, 0x5F, 0x24}, ""},
		{"gsm7 euro", "€", "gsm7", 0x00, []byte{0x1B, 0x65}, ""},
		{"gsm7 extension table", "[]{}^~\\|\f€", "gsm7", 0x00,
			[]byte{0x1B, 0x3C, 0x1B, 0x3E, 0x1B, 0x28, 0x1B, 0x29, 0x1B, 0x14, 0x1B, 0x3D, 0x1B, 0x2F, 0x1B, 0x40, 0x1B, 0x0A, 0x1B, 0x65}, ""},
		{"gsm7 mixed", "a€b", "gsm7", 0x00, []byte{0x61, 0x1B, 0x65, 0x62}, ""},
		{"gsm7 empty", "", "gsm7", 0x00, []byte{}, ""},
		{"gsm7 rejects c-cedilla", "abç", "gsm7", 0, nil, `gsm7: cannot encode 'ç' (U+00E7) at character 2 (byte offset 2)`},
		{"gsm7 rejects emoji with position", "é😀", "gsm7", 0, nil, `'😀' (U+1F600) at character 1 (byte offset 2)`},
		{"gsm7 rejects backtick", "`", "gsm7", 0, nil, "U+0060"},
		{"ucs2 bmp", "Aж€", "ucs2", 0x08, []byte{0x00, 0x41, 0x04, 0x36, 0x20, 0xAC}, ""},
		{"ucs2 emoji surrogate pair", "😀", "ucs2", 0x08, []byte{0xD8, 0x3D, 0xDE, 0x00}, ""},
		{"latin1", "é£ÿ", "latin1", 0x03, []byte{0xE9, 0xA3, 0xFF}, ""},
		{"latin1 rejects euro", "ab€", "latin1", 0, nil, `latin1: cannot encode '€' (U+20AC) at character 2`},
		{"auto picks gsm7 with extension chars", "{€}", "auto", 0x00, []byte{0x1B, 0x28, 0x1B, 0x65, 0x1B, 0x29}, ""},
		{"auto picks ucs2", "ç", "auto", 0x08, []byte{0x00, 0xE7}, ""},
		{"auto emoji", "a😀", "auto", 0x08, []byte{0x00, 0x61, 0xD8, 0x3D, 0xDE, 0x00}, ""},
		{"unknown encoding", "a", "utf8", 0, nil, `encoding "utf8" unknown`},
		{"invalid utf8", "ab\xffc", "ucs2", 0, nil, "invalid UTF-8 byte 0xFF at character 2 (byte offset 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dc, got, err := Encode(tt.text, tt.enc)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Encode(%q, %q) err = %v, want containing %q", tt.text, tt.enc, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Encode(%q, %q): %v", tt.text, tt.enc, err)
			}
			if dc != tt.wantDC || !bytes.Equal(got, tt.want) {
				t.Fatalf("Encode(%q, %q) = 0x%02X % X, want 0x%02X % X", tt.text, tt.enc, dc, got, tt.wantDC, tt.want)
			}
			back, err := Decode(dc, got, "gsm7")
			if err != nil || back != tt.text {
				t.Fatalf("Decode(Encode(%q)) = %q, %v", tt.text, back, err)
			}
		})
	}
}

// The table has the 127 basic characters and 10 extension characters, each
// round-tripping, and the extension ones taking two septets.
func TestGSM7Table(t *testing.T) {
	basic, ext := 0, 0
	for r := rune(0); r <= 0x10FFFF; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		s := gsm7Septets(r)
		switch len(s) {
		case 0:
			continue
		case 1:
			basic++
		case 2:
			ext++
			if s[0] != 0x1B {
				t.Errorf("%q: two septets not starting with escape: % X", r, s)
			}
		}
		got, err := Decode(0, s, "gsm7")
		if err != nil || got != string(r) {
			t.Errorf("%q: Decode(% X) = %q, %v", r, s, got, err)
		}
	}
	if basic != 127 || ext != 10 {
		t.Fatalf("table has %d basic and %d extension characters, want 127 and 10", basic, ext)
	}
}

// gosmpp's data.GSM7(false) encoder agrees with this table on every
// character (its table is right; this package keeps its own for error
// positions and strict decoding, see the package report).
func TestGSM7TableMatchesGosmpp(t *testing.T) {
	enc := data.GSM7(false).NewEncoder()
	for r := rune(0); r <= 0xFFFF; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		want, werr := enc.Bytes([]byte(string(r)))
		_, got, err := Encode(string(r), "gsm7")
		if (werr == nil) != (err == nil) || !bytes.Equal(got, want) {
			t.Errorf("U+%04X %q: ours % X (%v), gosmpp % X (%v)", r, r, got, err, want, werr)
		}
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		dc      byte
		in      []byte
		dc0     string
		want    string
		wantErr string
	}{
		{"gsm7 default", 0x00, []byte{0x48, 0x00, 0x1B, 0x65}, "", "H@€", ""},
		{"gsm7 unknown escape shows basic char", 0x00, []byte{0x1B, 0x41}, "gsm7", "A", ""},
		{"gsm7 escape escape is a space", 0x00, []byte{0x61, 0x1B, 0x1B, 0x62}, "gsm7", "a b", ""},
		{"gsm7 trailing escape", 0x00, []byte{0x61, 0x1B}, "gsm7", "", "gsm7: escape 0x1B at offset 1 has no following code"},
		{"gsm7 octet above 0x7F", 0x00, []byte{0x61, 0x80}, "gsm7", "", "gsm7: octet 0x80 at offset 1 is not a septet"},
		{"gsm7 escaped octet above 0x7F", 0x00, []byte{0x1B, 0xE5}, "gsm7", "", "octet 0xE5 at offset 1"},
		{"dc0 latin1", 0x00, []byte{0x40, 0xE9}, "latin1", "@é", ""},
		{"dc0 ascii", 0x00, []byte{0x40, 0x7B}, "ascii", "@{", ""},
		{"dc0 ascii rejects high", 0x00, []byte{0x40, 0xE9}, "ascii", "", "data_coding 0 (ascii): octet 0xE9 at offset 1 is not ASCII"},
		{"dc0 unknown", 0x00, nil, "ebcdic", "", `dc0 "ebcdic" unknown`},
		{"ia5", 0x01, []byte("a{"), "", "a{", ""},
		{"ia5 rejects high", 0x01, []byte{0xFF}, "", "", "data_coding 1 (ascii): octet 0xFF at offset 0"},
		{"latin1", 0x03, []byte{0xA3, 0xE9}, "gsm7", "£é", ""},
		{"ucs2", 0x08, []byte{0x04, 0x36, 0xD8, 0x3D, 0xDE, 0x00}, "", "ж😀", ""},
		{"ucs2 odd length", 0x08, []byte{0x00, 0x41, 0x00}, "", "", "ucs2: odd length 3 octets"},
		{"ucs2 lone high surrogate at end", 0x08, []byte{0x00, 0x41, 0xD8, 0x3D}, "", "", "ucs2: unpaired high surrogate 0xD83D at offset 2"},
		{"ucs2 high surrogate then bmp", 0x08, []byte{0xD8, 0x3D, 0x00, 0x41}, "", "", "unpaired high surrogate 0xD83D at offset 0"},
		{"ucs2 lone low surrogate", 0x08, []byte{0xDE, 0x00}, "", "", "ucs2: unpaired low surrogate 0xDE00 at offset 0"},
		{"unknown data_coding", 0x04, []byte{1}, "", "", "data_coding 0x04 not supported"},
		{"unknown data_coding class", 0xF0, []byte{1}, "", "", "data_coding 0xF0 not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.dc, tt.in, tt.dc0)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Decode err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Decode(0x%02X, % X, %q) = %q, %v; want %q", tt.dc, tt.in, tt.dc0, got, err, tt.want)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(byte(0), []byte("hello\x1b\x65"), uint8(0))
	f.Add(byte(8), []byte{0xD8, 0x3D, 0xDE, 0x00}, uint8(0))
	f.Add(byte(8), []byte{0xD8, 0x3D}, uint8(0))
	f.Add(byte(3), []byte{0xE9}, uint8(1))
	f.Add(byte(0), []byte{0x1B}, uint8(2))
	f.Add(byte(1), []byte{0x80}, uint8(0))
	dc0s := []string{"gsm7", "latin1", "ascii", "", "bogus"}
	f.Fuzz(func(t *testing.T, dc byte, in []byte, which uint8) {
		dc0 := dc0s[int(which)%len(dc0s)]
		s, err := Decode(dc, in, dc0)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if !utf8.ValidString(s) {
			t.Fatalf("Decode returned invalid UTF-8 %q", s)
		}
		// UCS2 and Latin-1 decoding is exact: encoding back gives the input.
		var enc string
		switch {
		case dc == 8:
			enc = "ucs2"
		case dc == 3, dc == 0 && dc0 == "latin1":
			enc = "latin1"
		case dc == 0 && (dc0 == "gsm7" || dc0 == ""):
			// GSM7 decoding is lenient about unknown escapes, but what it
			// returns is always encodable.
			if _, _, err := Encode(s, "gsm7"); err != nil {
				t.Fatalf("Decode(0, % X) = %q, not encodable: %v", in, s, err)
			}
			return
		default:
			return
		}
		_, back, err := Encode(s, enc)
		if err != nil || !bytes.Equal(back, in) {
			t.Fatalf("Encode(Decode(0x%02X, % X)) = % X, %v", dc, in, back, err)
		}
	})
}
