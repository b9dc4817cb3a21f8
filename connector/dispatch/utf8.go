package dispatch

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// checkUTF8 refuses a command with invalid UTF-8 before encoding/json
// decodes it, which would turn every invalid byte into U+FFFD and have the
// text sent with replacement characters. The reason gives the offset of the
// first invalid byte in the text when it is in the text, else in the command.
func checkUTF8(data []byte) error {
	if utf8.Valid(data) {
		return checkSurrogates(data)
	}
	at := firstInvalid(data)
	if start, raw, ok := textValue(data); ok && at > start && at < start+len(raw) {
		// The bytes before the invalid one are whole runes and the invalid
		// one is not ASCII, so not inside an escape: the prefix decodes.
		var prefix string
		if err := json.Unmarshal(append(append([]byte{}, raw[:at-start]...), '"'), &prefix); err == nil {
			return bad("text", "invalid UTF-8 at byte %d of the text (byte %d of the command)", len(prefix), at)
		}
	}
	return bad("", "invalid UTF-8 at byte %d of the command", at)
}

// firstInvalid is the offset of the first byte of data that is not part of
// valid UTF-8.
func firstInvalid(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(data)
}

// textValue finds the top-level "text" member of the command: its offset in
// data and its raw JSON value (quotes included). ok is false when data is
// not a JSON object with a text member.
func textValue(data []byte) (start int, raw json.RawMessage, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return 0, nil, false
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return 0, nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return 0, nil, false
		}
		if key == "text" {
			return int(dec.InputOffset()) - len(v), v, len(v) > 0 && v[0] == '"'
		}
	}
	return 0, nil, false
}

// checkSurrogates refuses a text holding an escaped UTF-16 surrogate that is
// not half of a pair ("\ud800" alone): valid JSON, but not a character, and
// encoding/json would turn it into U+FFFD as it does invalid bytes. Only a
// command with a \u escape pays for the look.
func checkSurrogates(data []byte) error {
	if !bytes.Contains(data, []byte(`\u`)) {
		return nil
	}
	start, raw, ok := textValue(data)
	if !ok {
		return nil
	}
	at := loneSurrogate(raw)
	if at < 0 {
		return nil
	}
	var prefix string
	if err := json.Unmarshal(append(append([]byte{}, raw[:at]...), '"'), &prefix); err != nil {
		return bad("text", "an escaped UTF-16 surrogate without its pair (byte %d of the command)", start+at)
	}
	return bad("text", "an escaped UTF-16 surrogate without its pair at byte %d of the text (byte %d of the command)", len(prefix), start+at)
}

// loneSurrogate returns the offset in raw (a JSON string, quotes included)
// of the first \uXXXX escape that is a surrogate not paired (a high one
// followed by a low one), or -1.
func loneSurrogate(raw []byte) int {
	hex4 := func(i int) (rune, bool) {
		if i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
			return 0, false
		}
		var r rune
		for _, c := range raw[i+2 : i+6] {
			switch {
			case '0' <= c && c <= '9':
				r = r<<4 | rune(c-'0')
			case 'a' <= c && c <= 'f':
				r = r<<4 | rune(c-'a'+10)
			case 'A' <= c && c <= 'F':
				r = r<<4 | rune(c-'A'+10)
			default:
				return 0, false
			}
		}
		return r, true
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		r, ok := hex4(i)
		if !ok {
			i++ // another escape (\\, \", \n...): skip its second byte
			continue
		}
		switch {
		case 0xD800 <= r && r < 0xDC00:
			if lo, ok := hex4(i + 6); ok && 0xDC00 <= lo && lo < 0xE000 {
				i += 11 // the pair
				continue
			}
			return i
		case 0xDC00 <= r && r < 0xE000:
			return i
		}
		i += 5
	}
	return -1
}
