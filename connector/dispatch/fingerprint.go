package dispatch

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
)

// Fingerprint is a SHA-256 of what the command has sent: the operator, both
// addresses with their ton/npi, the text, the encoding asked for and the
// sending options (registered delivery, validity, priority). It is computed
// from the decoded fields, not the JSON bytes, so a command re-serialised
// with other field order, spacing or escapes keeps its fingerprint; the
// store keeps it with the parts to tell a redelivery from a reused messageId.
func (c Command) Fingerprint() []byte {
	h := sha256.New()
	var n [4]byte
	field := func(s string) {
		// Length-prefixed, so no two field lists hash alike.
		binary.BigEndian.PutUint32(n[:], uint32(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	optInt := func(v *int) string {
		if v == nil {
			return "-"
		}
		return strconv.Itoa(*v)
	}
	enc := c.Encoding
	if enc == "" {
		enc = "auto"
	}
	validity, err := c.ValidityPeriod()
	if err != nil {
		validity = "invalid:" + c.Validity // not sent anyway: Validate refuses it
	}
	field("dispatch-v1")
	field(c.OperatorID)
	field(c.Source.Addr)
	field(optInt(c.Source.TON))
	field(optInt(c.Source.NPI))
	field(c.Destination.Addr)
	field(optInt(c.Destination.TON))
	field(optInt(c.Destination.NPI))
	field(c.Text)
	field(enc)
	field(strconv.FormatBool(c.RegisteredDelivery))
	field(validity)
	field(strconv.Itoa(c.Priority))
	return h.Sum(nil)
}
