package dispatch

import (
	"fmt"
	"hash/fnv"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/connector/segment"
)

// Profile is what building submit_sm needs to know about the operator.
type Profile struct {
	// LongMessage is the segmentation strategy: udh8 (default), udh16, sar, payload.
	LongMessage string
	// DataCoding0 is what the SMSC takes data_coding 0 to mean: gsm7
	// (default), latin1 or ascii. Only a gsm7 SMSC gets GSM 7-bit text.
	DataCoding0 string
	// AllowLatin1 sends texts that fit Latin-1 but not GSM 7-bit as
	// data_coding 3 instead of UCS2 (half the parts).
	AllowLatin1 bool
	// NoUCS2: the operator takes no data_coding 8 (encoding.ucs2: false).
	// Text that fits none of its alphabets, and a command asking for ucs2,
	// is a bad command (dead letter), never sent as UCS2.
	NoUCS2 bool
	// MaxParts caps the submit_sm of one message (0: DefaultMaxParts): a
	// longer text is a bad command, not hundreds of billed parts.
	MaxParts int
	// Defaults for addresses whose ton/npi the command leaves out; an
	// alphanumeric source (a character other than a digit or a leading
	// '+') takes AlphaTON/AlphaNPI.
	SourceTON, SourceNPI, DestTON, DestNPI byte
	AlphaTON, AlphaNPI                     byte
	// MaxAlphanumeric is the longest alphanumeric source the operator takes
	// (0: no limit here; source_addr's own 20 still holds).
	MaxAlphanumeric int
	// RegisteredDelivery is sent when the command asks for a receipt (0: 1,
	// a receipt on success and on failure).
	RegisteredDelivery byte
}

// alphanumeric says whether a source address is a name rather than a
// number: a character other than a digit, past an optional leading '+'.
func alphanumeric(addr string) bool {
	for i, r := range addr {
		if (r < '0' || r > '9') && !(i == 0 && r == '+') {
			return true
		}
	}
	return false
}

// sourceTonNpi applies the operator's defaults, and its limit on
// alphanumeric senders, to the command's source address.
func sourceTonNpi(c Command, p Profile) (ton, npi byte, err error) {
	ton, npi = p.SourceTON, p.SourceNPI
	if alphanumeric(c.Source.Addr) {
		if n := len([]rune(c.Source.Addr)); p.MaxAlphanumeric > 0 && n > p.MaxAlphanumeric {
			return 0, 0, bad("source.addr", "alphanumeric sender %q has %d characters; operator %s takes at most %d",
				c.Source.Addr, n, c.OperatorID, p.MaxAlphanumeric)
		}
		ton, npi = p.AlphaTON, p.AlphaNPI
	}
	return tonNpi(c.Source.TON, ton), tonNpi(c.Source.NPI, npi), nil
}

// DefaultMaxParts is the cap of parts of one message when the profile sets none.
const DefaultMaxParts = 10

// Part is one submit_sm of a message.
type Part struct {
	Number, Count int
	PDU           *pdu.SubmitSM
}

// Build encodes and segments the command's text and returns one submit_sm per
// part, sequence numbers already assigned (so correlation rows can be written
// before anything is sent). The same command always gives the same parts: the
// concatenation reference comes from the message id, so a redelivered command
// resubmits a missing part with the reference of its siblings.
func Build(c Command, p Profile) ([]Part, error) {
	enc, err := chooseEncoding(c, p)
	if err != nil {
		return nil, err
	}
	strategy := p.LongMessage
	if strategy == "" {
		strategy = "udh8"
	}
	segs, err := segment.Segment(c.Text, enc, strategy, Ref(c.MessageID))
	if err != nil {
		return nil, bad("text", "%v", err)
	}
	maxParts := p.MaxParts
	if maxParts <= 0 {
		maxParts = DefaultMaxParts
	}
	if len(segs) > maxParts {
		return nil, bad("text", "%d characters make %d parts (%s), more than the operator's maxParts %d",
			len([]rune(c.Text)), len(segs), enc, maxParts)
	}
	validity, err := c.ValidityPeriod()
	if err != nil {
		return nil, err
	}
	srcTON, srcNPI, err := sourceTonNpi(c, p)
	if err != nil {
		return nil, err
	}
	registered := p.RegisteredDelivery
	if registered == 0 {
		registered = 1
	}
	parts := make([]Part, len(segs))
	for i, s := range segs {
		sm := pdu.NewSubmitSM().(*pdu.SubmitSM)
		sm.SourceAddr = pdu.NewAddressWithTonNpi(srcTON, srcNPI)
		if err := sm.SourceAddr.SetAddress(c.Source.Addr); err != nil {
			return nil, bad("source.addr", "%v", err)
		}
		sm.DestAddr = pdu.NewAddressWithTonNpi(tonNpi(c.Destination.TON, p.DestTON), tonNpi(c.Destination.NPI, p.DestNPI))
		if err := sm.DestAddr.SetAddress(c.Destination.Addr); err != nil {
			return nil, bad("destination.addr", "%v", err)
		}
		sm.EsmClass = s.EsmClass
		sm.PriorityFlag = byte(c.Priority)
		sm.ValidityPeriod = validity
		if c.RegisteredDelivery {
			sm.RegisteredDelivery = registered
		}
		// The octets are already encoded (UDH included): hand them over as
		// they are, with the data_coding we chose.
		if err := sm.Message.SetMessageDataWithEncoding(s.Message, data.NewCustomEncoding(s.DataCoding, rawCodec{})); err != nil {
			return nil, bad("text", "%v", err)
		}
		for _, t := range s.TLVs {
			sm.RegisterOptionalParam(pdu.Field{Tag: pdu.Tag(t.Tag), Data: t.Value})
		}
		parts[i] = Part{Number: i + 1, Count: len(segs), PDU: sm}
	}
	return parts, nil
}

// chooseEncoding applies the command's wish and the operator's alphabets,
// and refuses UCS2 to an operator that takes none.
func chooseEncoding(c Command, p Profile) (string, error) {
	enc, err := pickEncoding(c, p)
	if err != nil || enc != "ucs2" || !p.NoUCS2 {
		return enc, err
	}
	if c.Encoding == "ucs2" {
		return "", bad("encoding", `"ucs2" requested and operator %s has encoding.ucs2: false`, c.OperatorID)
	}
	return "", bad("text", "text needs UCS2 (%s) and operator %s has encoding.ucs2: false", firstBeyond(c.Text, p), c.OperatorID)
}

// firstBeyond names the first character of text the operator's alphabets
// lack, for the dead letter's reason.
func firstBeyond(text string, p Profile) string {
	gsmSMSC := p.DataCoding0 == "" || p.DataCoding0 == "gsm7"
	latin1 := p.AllowLatin1 || !gsmSMSC
	for i, r := range []rune(text) {
		inGSM := gsmSMSC && segment.GSM7Fits(string(r))
		inLatin1 := latin1 && r <= 0xFF
		if !inGSM && !inLatin1 {
			return fmt.Sprintf("%q (U+%04X) at character %d", r, r, i)
		}
	}
	return "no character fits"
}

// pickEncoding applies the command's wish and the operator's alphabet.
func pickEncoding(c Command, p Profile) (string, error) {
	gsmSMSC := p.DataCoding0 == "" || p.DataCoding0 == "gsm7"
	fitsLatin1 := func() bool {
		_, _, err := segment.Encode(c.Text, "latin1")
		return err == nil
	}
	switch c.Encoding {
	case "ucs2":
		return "ucs2", nil
	case "latin1":
		if !fitsLatin1() {
			_, _, err := segment.Encode(c.Text, "latin1")
			return "", bad("text", "cannot be encoded as requested: %v", err)
		}
		return "latin1", nil
	case "gsm7":
		if !segment.GSM7Fits(c.Text) {
			_, _, err := segment.Encode(c.Text, "gsm7")
			return "", bad("text", "cannot be encoded as requested: %v", err)
		}
		if gsmSMSC {
			return "gsm7", nil
		}
		// This SMSC reads data_coding 0 as something else: the text goes as
		// Latin-1 when it can (not €, Greek capitals...), else UCS2.
		if fitsLatin1() {
			return "latin1", nil
		}
		return "ucs2", nil
	}
	switch {
	case gsmSMSC && segment.GSM7Fits(c.Text):
		return "gsm7", nil
	case (p.AllowLatin1 || !gsmSMSC) && fitsLatin1():
		return "latin1", nil
	}
	return "ucs2", nil
}

// Ref is the concatenation reference of a message: stable across redeliveries.
func Ref(messageID string) uint16 {
	h := fnv.New32a()
	h.Write([]byte(messageID))
	v := h.Sum32()
	return uint16(v ^ v>>16)
}

func tonNpi(v *int, def byte) byte {
	if v == nil {
		return def
	}
	return byte(*v)
}

// rawCodec carries octets that are already encoded.
type rawCodec struct{}

func (rawCodec) Encode(s string) ([]byte, error) { return []byte(s), nil }
func (rawCodec) Decode(b []byte) (string, error) { return string(b), nil }

// String describes a part for logs.
func (p Part) String() string {
	return fmt.Sprintf("part %d/%d seq %d", p.Number, p.Count, p.PDU.GetSequenceNumber())
}
