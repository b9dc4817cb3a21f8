package compare

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/linxGnu/gosmpp/data"
)

// Code is a normalised error code: "0x0000000B" for an SMPP command status
// however it was written (11, 0xb, 0x0000000B, ESME_RINVDSTADR), or the
// code as the legacy log wrote it, upper-cased, when it is none of those
// (a legacy-specific code: map it with errorEquivalence).
type Code string

// statusByName maps the SMPP 3.4 command status names gosmpp knows to their values.
var statusByName = func() map[string]uint32 {
	m := map[string]uint32{}
	for v := uint32(0); v < 0x500; v++ {
		if s := data.CommandStatusType(v).String(); strings.HasPrefix(s, "ESME_") {
			m[s] = v
		}
	}
	return m
}()

// StatusCode is the Code of a command status value.
func StatusCode(v uint32) Code { return Code(fmt.Sprintf("0x%08X", v)) }

// ParseCode normalises an error code as a log writes it. Empty stays empty.
func ParseCode(s string) Code {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	u := strings.ToUpper(s)
	if h, ok := strings.CutPrefix(u, "0X"); ok {
		if v, err := strconv.ParseUint(h, 16, 32); err == nil {
			return StatusCode(uint32(v))
		}
	} else if v, err := strconv.ParseUint(u, 10, 32); err == nil {
		return StatusCode(uint32(v))
	}
	if v, ok := statusByName[u]; ok {
		return StatusCode(v)
	}
	return Code(u)
}

// String names the code: "ESME_RINVDSTADR (0x0000000B)".
func (c Code) String() string {
	if h, ok := strings.CutPrefix(string(c), "0x"); ok {
		if v, err := strconv.ParseUint(h, 16, 32); err == nil {
			if s := data.CommandStatusType(v).String(); strings.HasPrefix(s, "ESME_") {
				return s + " (" + string(c) + ")"
			}
		}
	}
	return string(c)
}
