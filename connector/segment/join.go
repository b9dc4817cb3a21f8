package segment

import (
	"fmt"
	"strings"
)

// MOs are reassembled by the store (connector/store, mo.go), which keeps the
// parts of a segmented message until the last arrives, across restarts; this
// file decodes them once they are all there.

// Fragment is one part of a segmented message: its data_coding and its text
// octets, the UDH removed (Payload).
type Fragment struct {
	DataCoding byte
	Octets     []byte
}

// Join decodes the parts of a message, in order. Parts sharing one
// data_coding are decoded as one octet string, so an escape or surrogate
// pair that an SMSC split across parts still decodes. dc0 is what the
// operator's data_coding 0 means, as for Decode: an SMSC whose default
// alphabet is Latin-1 sends its MOs as data_coding 0 in Latin-1.
func Join(parts []Fragment, dc0 string) (string, error) {
	if len(parts) == 0 {
		return "", nil
	}
	same := true
	for _, p := range parts[1:] {
		same = same && p.DataCoding == parts[0].DataCoding
	}
	if same {
		var all []byte
		for _, p := range parts {
			all = append(all, p.Octets...)
		}
		return Decode(parts[0].DataCoding, all, dc0)
	}
	var sb strings.Builder
	for i, p := range parts {
		s, err := Decode(p.DataCoding, p.Octets, dc0)
		if err != nil {
			return "", fmt.Errorf("part %d/%d: %w", i+1, len(parts), err)
		}
		sb.WriteString(s)
	}
	return sb.String(), nil
}

// Payload returns a part's text octets: short_message (or message_payload)
// without its UDH.
func Payload(p Part) ([]byte, error) {
	_, data, err := splitUDH(p)
	return data, err
}
