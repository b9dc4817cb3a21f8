// Package smstext is the simulator's own SMS text and concatenation code:
// the alphabets SMPP 3.4 carries in short_message (GSM 03.38 as unpacked
// septets, one per octet, for data_coding 0; IA5/ASCII, 1; Latin-1, 3;
// UCS-2/UTF-16BE with surrogate pairs, 8) and long messages split by 8-bit or
// 16-bit UDH, by sar_* TLVs or carried whole in message_payload.
//
// The simulator is the connector's judge, so it must not share the
// connector's codec (a bug in one shared codec would pass every test). The
// alphabets come from well-kept libraries written by others:
// github.com/warthog618/sms (a GSM 03.38 default and extension table and the
// TS 23.040 user data header, widely used by modem and SMS tools) and
// golang.org/x/text (Latin-1 and UTF-16). What is left here is the SMPP
// framing, checked against the specifications rather than the connector.
package smstext

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/warthog618/sms/encoding/gsm7"
	"github.com/warthog618/sms/encoding/gsm7/charset"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// warthog618/sms v0.3.0 builds its default GSM 7-bit tables lazily, on first
// use, into package variables without a lock: two sessions decoding at once
// race on them (the race detector saw it). Building them here, before any
// goroutine can call the codec, makes every later call a plain read.
func init() {
	charset.DefaultDecoder()
	charset.DefaultEncoder()
	charset.DefaultExtEncoder()
}

// data_coding values (SMPP 3.4 §5.2.19).
const (
	DCDefault byte = 0x00 // the SMSC's default alphabet: GSM 03.38 unless the operator says otherwise
	DCIA5     byte = 0x01
	DCLatin1  byte = 0x03
	DCUCS2    byte = 0x08
)

// Alphabets an operator may take data_coding 0 to mean (profile dataCoding0).
const (
	AlphabetGSM7   = "gsm7"
	AlphabetLatin1 = "latin1"
	AlphabetASCII  = "ascii"
)

const escape = 0x1B

// utf16be is UTF-16 big endian without a byte order mark, as SMPP's UCS2.
var utf16be = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)

// EncodeAlphabet returns text in one alphabet: "gsm7" (unpacked septets,
// extension characters as 0x1B and their code), "latin1", "ascii" or "ucs2".
func EncodeAlphabet(text, alphabet string) ([]byte, error) {
	if !utf8.ValidString(text) {
		return nil, fmt.Errorf("text is not valid UTF-8")
	}
	switch alphabet {
	case AlphabetGSM7:
		for i, r := range text {
			// The library's table lists the escape itself as a character;
			// a text holding U+001B would turn into an escape sequence.
			if r == escape {
				return nil, fmt.Errorf("gsm7: cannot encode U+001B at byte offset %d", i)
			}
		}
		out, err := gsm7.Encode([]byte(text))
		var bad gsm7.ErrInvalidUTF8
		if errors.As(err, &bad) {
			return nil, cannotEncode(AlphabetGSM7, text, rune(bad))
		}
		if err != nil {
			return nil, fmt.Errorf("gsm7: %w", err)
		}
		return out, nil
	case AlphabetLatin1:
		for _, r := range text {
			if _, ok := charmap.ISO8859_1.EncodeRune(r); !ok {
				return nil, cannotEncode(AlphabetLatin1, text, r)
			}
		}
		out, err := charmap.ISO8859_1.NewEncoder().Bytes([]byte(text))
		if err != nil {
			return nil, fmt.Errorf("latin1: %w", err)
		}
		return out, nil
	case AlphabetASCII:
		for _, r := range text {
			if r > 0x7F {
				return nil, cannotEncode(AlphabetASCII, text, r)
			}
		}
		return []byte(text), nil
	case "ucs2":
		out, err := utf16be.NewEncoder().Bytes([]byte(text))
		if err != nil {
			return nil, fmt.Errorf("ucs2: %w", err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("alphabet %q unknown (want gsm7, latin1, ascii or ucs2)", alphabet)
}

// cannotEncode names the first r in text and where it is.
func cannotEncode(alphabet, text string, r rune) error {
	char := 0
	for off, c := range text {
		if c == r {
			return fmt.Errorf("%s: cannot encode %q (U+%04X) at character %d (byte offset %d)", alphabet, r, r, char, off)
		}
		char++
	}
	return fmt.Errorf("%s: cannot encode %q (U+%04X)", alphabet, r, r)
}

// Encode returns the data_coding and octets for text. encoding is "gsm7"
// (data_coding 0 as GSM septets), "latin1" (data_coding 3), "ucs2" (8),
// "ascii" (1), "default" or "" (data_coding 0 in dc0, the operator's default
// alphabet: what its handsets' MOs arrive as) or "auto" (data_coding 0 in
// dc0 when the text fits, else UCS2). dc0 "" means gsm7.
func Encode(text, encoding, dc0 string) (dataCoding byte, octets []byte, err error) {
	if dc0 == "" {
		dc0 = AlphabetGSM7
	}
	switch encoding {
	case "gsm7":
		octets, err = EncodeAlphabet(text, AlphabetGSM7)
		return DCDefault, octets, err
	case "default", "":
		octets, err = EncodeAlphabet(text, dc0)
		return DCDefault, octets, err
	case "auto":
		if octets, err = EncodeAlphabet(text, dc0); err == nil {
			return DCDefault, octets, nil
		}
		octets, err = EncodeAlphabet(text, "ucs2")
		return DCUCS2, octets, err
	case "latin1":
		octets, err = EncodeAlphabet(text, AlphabetLatin1)
		return DCLatin1, octets, err
	case "ascii":
		octets, err = EncodeAlphabet(text, AlphabetASCII)
		return DCIA5, octets, err
	case "ucs2":
		octets, err = EncodeAlphabet(text, "ucs2")
		return DCUCS2, octets, err
	}
	return 0, nil, fmt.Errorf("encoding %q unknown (want gsm7, latin1, ucs2, ascii, default or auto)", encoding)
}

// Decode returns the text of octets sent with dataCoding; dc0 is what the
// operator takes data_coding 0 to mean ("" is gsm7). It is strict: a GSM
// octet above 0x7F, an escape at the end, an odd UCS2 length, an unpaired
// surrogate or a non-ASCII IA5 octet is an error, so that the judge never
// mistakes garbage for text.
func Decode(dataCoding byte, octets []byte, dc0 string) (string, error) {
	switch dataCoding {
	case DCDefault:
		switch dc0 {
		case "", AlphabetGSM7:
			return decodeGSM7(octets)
		case AlphabetLatin1:
			return decodeLatin1(octets)
		case AlphabetASCII:
			return decodeASCII(octets)
		}
		return "", fmt.Errorf("data_coding 0 alphabet %q unknown (want gsm7, latin1 or ascii)", dc0)
	case DCIA5:
		return decodeASCII(octets)
	case DCLatin1:
		return decodeLatin1(octets)
	case DCUCS2:
		return decodeUCS2(octets)
	}
	return "", fmt.Errorf("data_coding 0x%02X not supported (want 0x00, 0x01, 0x03 or 0x08)", dataCoding)
}

func decodeGSM7(b []byte) (string, error) {
	for i, c := range b {
		if c > 0x7F {
			return "", fmt.Errorf("gsm7: octet 0x%02X at offset %d is not a septet", c, i)
		}
	}
	// An escape must be followed by a code: count the run of escapes that
	// ends the text (0x1B 0x1B is a complete pair, read as a space).
	run := 0
	for i := len(b) - 1; i >= 0 && b[i] == escape; i-- {
		run++
	}
	if run%2 == 1 {
		return "", fmt.Errorf("gsm7: escape at offset %d has no following code", len(b)-1)
	}
	// Not strict: TS 23.038 asks a receiver to show an unknown extension
	// code as the basic character with that code, which the library does.
	out, err := gsm7.Decode(b)
	if err != nil {
		return "", fmt.Errorf("gsm7: %w", err)
	}
	return string(out), nil
}

func decodeLatin1(b []byte) (string, error) {
	out, err := charmap.ISO8859_1.NewDecoder().Bytes(b)
	if err != nil {
		return "", fmt.Errorf("latin1: %w", err)
	}
	return string(out), nil
}

func decodeASCII(b []byte) (string, error) {
	for i, c := range b {
		if c > 0x7F {
			return "", fmt.Errorf("ascii: octet 0x%02X at offset %d is not ASCII", c, i)
		}
	}
	return string(b), nil
}

func decodeUCS2(b []byte) (string, error) {
	if len(b)%2 != 0 {
		return "", fmt.Errorf("ucs2: odd length %d octets", len(b))
	}
	out, err := utf16be.NewDecoder().Bytes(b)
	if err != nil {
		return "", fmt.Errorf("ucs2: %w", err)
	}
	// x/text replaces an unpaired surrogate with U+FFFD; encoding the text
	// back tells such a replacement from a real U+FFFD.
	back, err := utf16be.NewEncoder().Bytes(out)
	if err != nil || !bytes.Equal(back, b) {
		return "", fmt.Errorf("ucs2: unpaired surrogate in %d octets", len(b))
	}
	return string(out), nil
}

// EncodeLossy is EncodeAlphabet for text the SMSC itself writes (a receipt):
// a character the alphabet lacks becomes '?', as SMSCs substitute it, rather
// than losing the whole receipt. ASCII text that reads the same in the
// alphabet (all of a receipt but its echoed text, usually) is returned as is,
// not copied: it runs once per receipt.
func EncodeLossy(text []byte, alphabet string) []byte {
	if sameInAlphabet(text, alphabet) {
		return text
	}
	out := make([]byte, 0, len(text)+8)
	for _, r := range string(text) {
		b, err := EncodeAlphabet(string(r), alphabet)
		if err != nil {
			if b, err = EncodeAlphabet("?", alphabet); err != nil {
				return out // unknown alphabet: nothing to write in
			}
		}
		out = append(out, b...)
	}
	return out
}

// sameInAlphabet reports whether every byte of text is an ASCII character
// with the same code in alphabet: any ASCII for latin1 and ascii; for GSM
// 03.38 the printable ASCII characters but the ones the GSM table moves
// ($ @ _ `) or holds in its extension table ([ \ ] ^ { | } ~).
func sameInAlphabet(text []byte, alphabet string) bool {
	switch alphabet {
	case AlphabetLatin1, AlphabetASCII:
		for i := 0; i < len(text); i++ {
			if text[i] >= 0x80 {
				return false
			}
		}
		return true
	case AlphabetGSM7:
		for i := 0; i < len(text); i++ {
			c := text[i]
			if c < 0x20 || c > 0x7E || gsmMoved[c] {
				return false
			}
		}
		return true
	}
	return false
}

var gsmMoved = [128]bool{'$': true, '@': true, '_': true, '`': true,
	'[': true, '\\': true, ']': true, '^': true, '{': true, '|': true, '}': true, '~': true}
