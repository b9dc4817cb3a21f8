package profile

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// ID formats.
const (
	IDDecimal  = "decimal"  // 1234567
	IDHexLower = "hex"      // 12d687
	IDHexUpper = "HEX"      // 12D687
	IDPadded   = "padded"   // 0001234567 (Width digits)
	IDUUID     = "uuid"     // 8-4-4-4-12, derived from the number
	IDLongHex  = "long_hex" // Width hex chars (up to 64), derived from the number
)

// IDFormat formats the SMSC's internal message number as the operator does.
type IDFormat struct {
	Format string `json:"format" yaml:"format"`
	// Width: digits for padded (default 10), characters for long_hex (default 64).
	Width int `json:"width,omitempty" yaml:"width"`
}

// Validate names what is wrong.
func (f IDFormat) Validate() error {
	switch f.Format {
	case "", IDDecimal, IDHexLower, IDHexUpper, IDUUID:
	case IDPadded:
		if f.Width < 0 || f.Width > 64 {
			return fmt.Errorf("width %d: padded ids are 1..64 digits", f.Width)
		}
	case IDLongHex:
		if f.Width < 0 || f.Width > 64 {
			return fmt.Errorf("width %d: long_hex ids are 1..64 characters", f.Width)
		}
	default:
		return fmt.Errorf("format %q is not one of decimal, hex, HEX, padded, uuid, long_hex", f.Format)
	}
	return nil
}

// Render renders message number n. The same n always gives the same id, so a
// resp and a receipt that use different formats still refer to one message.
func (f IDFormat) Render(n uint64) string {
	switch f.Format {
	case IDHexLower:
		return strconv.FormatUint(n, 16)
	case IDHexUpper:
		return strings.ToUpper(strconv.FormatUint(n, 16))
	case IDPadded:
		w := f.Width
		if w == 0 {
			w = 10
		}
		return fmt.Sprintf("%0*d", w, n)
	case IDUUID:
		b := digest(n)
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		h := hex.EncodeToString(b[:16])
		return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	case IDLongHex:
		w := f.Width
		if w == 0 {
			w = 64
		}
		b := digest(n)
		return hex.EncodeToString(b[:])[:w]
	}
	return strconv.FormatUint(n, 10)
}

// Parse maps an id in this format back to its number. Derived formats (uuid,
// long_hex) cannot be reversed and report ok=false; callers keep a lookup table.
func (f IDFormat) Parse(id string) (n uint64, ok bool) {
	var err error
	switch f.Format {
	case IDHexLower, IDHexUpper:
		n, err = strconv.ParseUint(id, 16, 64)
	case IDUUID, IDLongHex:
		return 0, false
	default:
		n, err = strconv.ParseUint(id, 10, 64)
	}
	return n, err == nil
}

func digest(n uint64) [32]byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return sha256.Sum256(b[:])
}
