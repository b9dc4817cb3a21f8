// Package segment encodes, segments and reassembles the text of short
// messages as SMPP 3.4 carries them in submit_sm and deliver_sm: GSM 03.38
// (unpacked, one septet per octet, as data_coding 0), UCS2 (UTF-16BE, with
// surrogate pairs for characters beyond the BMP) and Latin-1; concatenation by
// 8-bit or 16-bit UDH, by SAR TLVs, or as a single message_payload.
package segment

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// Data coding values used by this package.
const (
	DataCodingGSM7   byte = 0x00
	DataCodingASCII  byte = 0x01 // IA5
	DataCodingLatin1 byte = 0x03
	DataCodingUCS2   byte = 0x08
)

const esc = 0x1B

// gsm7Basic is the GSM 7-bit default alphabet (3GPP TS 23.038 §6.2.1),
// indexed by septet. 0x1B is the escape to the extension table (no character).
var gsm7Basic = [128]rune{
	'@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
	'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', -1, 'Æ', 'æ', 'ß', 'É',
	' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
	'¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
	'¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
}

// gsm7Ext is the default extension table (3GPP TS 23.038 §6.2.1.1): each of
// these characters is sent as 0x1B followed by its code, two septets.
var gsm7Ext = map[byte]rune{
	0x0A: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2F: '\\',
	0x3C: '[', 0x3D: '~', 0x3E: ']', 0x40: '|', 0x65: '€',
}

var (
	gsm7BasicRev = map[rune]byte{}
	gsm7ExtRev   = map[rune]byte{}
)

func init() {
	for i, r := range gsm7Basic {
		if r >= 0 {
			gsm7BasicRev[r] = byte(i)
		}
	}
	for c, r := range gsm7Ext {
		gsm7ExtRev[r] = c
	}
}

// gsm7Septets returns the septets for r (one, or 0x1B and a code), or nil.
func gsm7Septets(r rune) []byte {
	if c, ok := gsm7BasicRev[r]; ok {
		return []byte{c}
	}
	if c, ok := gsm7ExtRev[r]; ok {
		return []byte{esc, c}
	}
	return nil
}

// GSM7Fits reports whether every character of text is in the GSM 7-bit
// default alphabet or its extension table.
func GSM7Fits(text string) bool {
	for _, r := range text {
		if gsm7Septets(r) == nil {
			return false
		}
	}
	return utf8.ValidString(text)
}

func cannotEncode(enc string, r rune, char, off int) error {
	return fmt.Errorf("%s: cannot encode %q (U+%04X) at character %d (byte offset %d)", enc, r, r, char, off)
}

func checkUTF8(text string) error {
	if utf8.ValidString(text) {
		return nil
	}
	char := 0
	for off, r := range text {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(text[off:]); size <= 1 {
				return fmt.Errorf("text: invalid UTF-8 byte 0x%02X at character %d (byte offset %d)", text[off], char, off)
			}
		}
		char++
	}
	return fmt.Errorf("text: invalid UTF-8")
}

// Encode returns the data_coding and octets for text. encoding is "gsm7"
// (unpacked septets, one per octet; extension characters as 0x1B + code),
// "ucs2" (UTF-16BE; characters beyond the BMP as surrogate pairs), "latin1",
// or "auto" (gsm7 if every character fits, else ucs2). The error names the
// first character that cannot be encoded and its position.
func Encode(text, encoding string) (dataCoding byte, octets []byte, err error) {
	if err := checkUTF8(text); err != nil {
		return 0, nil, err
	}
	switch encoding {
	case "auto":
		if GSM7Fits(text) {
			return Encode(text, "gsm7")
		}
		return Encode(text, "ucs2")
	case "gsm7":
		out := make([]byte, 0, len(text))
		char := 0
		for off, r := range text {
			s := gsm7Septets(r)
			if s == nil {
				return 0, nil, cannotEncode("gsm7", r, char, off)
			}
			out = append(out, s...)
			char++
		}
		return DataCodingGSM7, out, nil
	case "ucs2":
		out := make([]byte, 0, 2*len(text))
		for _, r := range text {
			if r >= 0x10000 {
				hi, lo := utf16.EncodeRune(r)
				out = append(out, byte(hi>>8), byte(hi), byte(lo>>8), byte(lo))
			} else {
				out = append(out, byte(r>>8), byte(r))
			}
		}
		return DataCodingUCS2, out, nil
	case "latin1":
		out := make([]byte, 0, len(text))
		char := 0
		for off, r := range text {
			if r > 0xFF {
				return 0, nil, cannotEncode("latin1", r, char, off)
			}
			out = append(out, byte(r))
			char++
		}
		return DataCodingLatin1, out, nil
	default:
		return 0, nil, fmt.Errorf("encoding %q unknown (want gsm7, ucs2, latin1 or auto)", encoding)
	}
}

// Decode is the inverse of Encode for data_coding 0, 1 (IA5/ASCII), 3
// (Latin-1) and 8 (UCS2). dc0 says what data_coding 0 means: "gsm7" (or ""),
// "latin1" or "ascii", to model operators whose default alphabet is not GSM.
//
// For GSM 7-bit, an escape followed by a code not in the extension table
// decodes as the basic-table character for that code and 0x1B 0x1B as a
// space, as 3GPP TS 23.038 asks of a receiving entity; an octet above 0x7F
// or an escape at the very end is an error. For UCS2, an odd length or an
// unpaired surrogate is an error.
func Decode(dataCoding byte, octets []byte, dc0 string) (string, error) {
	switch dataCoding {
	case DataCodingGSM7:
		switch dc0 {
		case "", "gsm7":
			return decodeGSM7(octets)
		case "latin1":
			return decodeLatin1(octets), nil
		case "ascii":
			return decodeASCII(octets, "data_coding 0 (ascii)")
		default:
			return "", fmt.Errorf("dc0 %q unknown (want gsm7, latin1 or ascii)", dc0)
		}
	case DataCodingASCII:
		return decodeASCII(octets, "data_coding 1 (ascii)")
	case DataCodingLatin1:
		return decodeLatin1(octets), nil
	case DataCodingUCS2:
		return decodeUCS2(octets)
	default:
		return "", fmt.Errorf("data_coding 0x%02X not supported (want 0x00, 0x01, 0x03 or 0x08)", dataCoding)
	}
}

func decodeGSM7(b []byte) (string, error) {
	out := make([]rune, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c > 0x7F {
			return "", fmt.Errorf("gsm7: octet 0x%02X at offset %d is not a septet", c, i)
		}
		if c != esc {
			out = append(out, gsm7Basic[c])
			continue
		}
		if i+1 >= len(b) {
			return "", fmt.Errorf("gsm7: escape 0x1B at offset %d has no following code", i)
		}
		i++
		e := b[i]
		switch {
		case e > 0x7F:
			return "", fmt.Errorf("gsm7: octet 0x%02X at offset %d is not a septet", e, i)
		case e == esc:
			out = append(out, ' ')
		default:
			if r, ok := gsm7Ext[e]; ok {
				out = append(out, r)
			} else {
				out = append(out, gsm7Basic[e])
			}
		}
	}
	return string(out), nil
}

func decodeLatin1(b []byte) string {
	out := make([]rune, len(b))
	for i, c := range b {
		out[i] = rune(c)
	}
	return string(out)
}

func decodeASCII(b []byte, what string) (string, error) {
	for i, c := range b {
		if c > 0x7F {
			return "", fmt.Errorf("%s: octet 0x%02X at offset %d is not ASCII", what, c, i)
		}
	}
	return string(b), nil
}

func decodeUCS2(b []byte) (string, error) {
	if len(b)%2 != 0 {
		return "", fmt.Errorf("ucs2: odd length %d octets", len(b))
	}
	out := make([]rune, 0, len(b)/2)
	for i := 0; i < len(b); i += 2 {
		u := rune(b[i])<<8 | rune(b[i+1])
		switch {
		case utf16.IsSurrogate(u) && u < 0xDC00: // high surrogate
			if i+3 < len(b) {
				lo := rune(b[i+2])<<8 | rune(b[i+3])
				if lo >= 0xDC00 && lo <= 0xDFFF {
					out = append(out, utf16.DecodeRune(u, lo))
					i += 2
					continue
				}
			}
			return "", fmt.Errorf("ucs2: unpaired high surrogate 0x%04X at offset %d", u, i)
		case utf16.IsSurrogate(u):
			return "", fmt.Errorf("ucs2: unpaired low surrogate 0x%04X at offset %d", u, i)
		default:
			out = append(out, u)
		}
	}
	return string(out), nil
}
