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
		return nil
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
