package dlr

import (
	"fmt"
	"math/big"
	"strconv"
)

// IDFormat is how an operator writes SMSC message ids.
type IDFormat string

// ID formats. Format names are matched ignoring case; "" means raw.
const (
	IDDecimal IDFormat = "decimal" // 0001234567, 1234567
	IDHex     IDFormat = "hex"     // 12d687, 12D687, 0012D687
	IDRaw     IDFormat = "raw"     // compared as-is after trimming
	IDUUID    IDFormat = "uuid"    // 8-4-4-4-12, any case
)

// IDRule says how an operator writes ids in submit_sm_resp and in receipts.
// The zero value compares both raw.
type IDRule struct {
	Resp    IDFormat `json:"resp,omitempty" yaml:"resp,omitempty"`
	Receipt IDFormat `json:"receipt,omitempty" yaml:"receipt,omitempty"`
}

// Validate names the field whose format is unknown.
func (r IDRule) Validate() error {
	if err := r.Resp.Validate(); err != nil {
		return fmt.Errorf("resp: %w", err)
	}
	if err := r.Receipt.Validate(); err != nil {
		return fmt.Errorf("receipt: %w", err)
	}
	return nil
}

// Validate reports an unknown format.
func (f IDFormat) Validate() error {
	if _, ok := f.norm(); !ok {
		return fmt.Errorf("id format %q is not one of decimal, hex, raw, uuid", string(f))
	}
	return nil
}

func (f IDFormat) norm() (IDFormat, bool) {
	switch {
	case f == "", eqFold(string(f), "raw"):
		return IDRaw, true
	case eqFold(string(f), "decimal"):
		return IDDecimal, true
	case eqFold(string(f), "hex"):
		return IDHex, true
	case eqFold(string(f), "uuid"):
		return IDUUID, true
	}
	return f, false
}

// Key returns the canonical key of an id taken from a submit_sm_resp
// (fromReceipt false) or from a receipt (true), such that both ids of one
// message give the same key. decimal and hex ids become their decimal value
// without leading zeros; raw ids are trimmed of white space and NULs; uuids
// are lower-cased and written 8-4-4-4-12 (hyphens and braces are optional
// in the input). Errors name the id and the format:
//
//	receipt id "12G4": not hex
func (r IDRule) Key(id string, fromReceipt bool) (string, error) {
	f, which := r.Resp, "resp"
	if fromReceipt {
		f, which = r.Receipt, "receipt"
	}
	k, problem := f.key(id)
	if problem != "" {
		return "", fmt.Errorf("%s id %q: %s", which, id, problem)
	}
	return k, nil
}

// Key is IDRule.Key for one format; errors do not say which side.
func (f IDFormat) Key(id string) (string, error) {
	k, problem := f.key(id)
	if problem != "" {
		return "", fmt.Errorf("id %q: %s", id, problem)
	}
	return k, nil
}

// key returns the key or, if the id does not fit f, what is wrong.
func (f IDFormat) key(id string) (string, string) {
	nf, ok := f.norm()
	if !ok {
		return "", fmt.Sprintf("id format %q is not one of decimal, hex, raw, uuid", string(f))
	}
	s := trimID(id)
	if s == "" {
		return "", "empty"
	}
	switch nf {
	case IDDecimal:
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return "", "not decimal"
			}
		}
		return stripZeros(s), ""
	case IDHex:
		for i := 0; i < len(s); i++ {
			if !isHex(s[i]) {
				return "", "not hex"
			}
		}
		s = stripZeros(s)
		if len(s) <= 16 {
			n, _ := strconv.ParseUint(s, 16, 64) // cannot fail: checked above
			return strconv.FormatUint(n, 10), ""
		}
		n, _ := new(big.Int).SetString(s, 16)
		return n.String(), ""
	case IDUUID:
		return uuidKey(s)
	}
	return s, ""
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f'
}

// stripZeros strips leading zeros of a non-empty digit string ("000" is "0").
func stripZeros(s string) string {
	i := 0
	for i < len(s)-1 && s[i] == '0' {
		i++
	}
	return s[i:]
}

// uuidKey canonicalises a uuid: 32 hex digits, hyphens anywhere, optionally
// in braces.
func uuidKey(s string) (string, string) {
	if canonicalUUID(s) {
		return s, ""
	}
	if len(s) >= 2 && s[0] == '{' && s[len(s)-1] == '}' {
		s = s[1 : len(s)-1]
	}
	var out [32]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '-' {
			continue
		}
		if !isHex(c) || n == 32 {
			return "", "not a uuid"
		}
		out[n] = c | 0x20 // lower-case; digits are unaffected
		n++
	}
	if n != 32 {
		return "", "not a uuid"
	}
	h := out[:32]
	b := make([]byte, 0, 36)
	b = append(b, h[0:8]...)
	b = append(b, '-')
	b = append(b, h[8:12]...)
	b = append(b, '-')
	b = append(b, h[12:16]...)
	b = append(b, '-')
	b = append(b, h[16:20]...)
	b = append(b, '-')
	b = append(b, h[20:32]...)
	return string(b), ""
}

// canonicalUUID reports whether s is already lower-case 8-4-4-4-12.
func canonicalUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}
