package smstext

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strings"

	"github.com/warthog618/sms/encoding/tpdu"
)

// TLV tags that carry concatenation (SMPP 3.4 §5.3.2).
const (
	TagSarMsgRefNum     uint16 = 0x020C
	TagSarTotalSegments uint16 = 0x020E
	TagSarSegmentSeqnum uint16 = 0x020F
	TagMessagePayload   uint16 = 0x0424
)

// EsmUDHI is the esm_class bit saying the user data starts with a UDH.
const EsmUDHI byte = 0x40

// UDH information element identifiers (TS 23.040 §9.2.3.24).
const (
	ieConcat8  byte = 0x00
	ieConcat16 byte = 0x08
)

// Part is one submit_sm, data_sm or deliver_sm's worth of a message.
type Part struct {
	EsmClass   byte
	DataCoding byte
	Message    []byte // short_message, UDH included
	TLVs       []TLV  // in PDU order
}

// TLV is one optional parameter.
type TLV struct {
	Tag   uint16
	Value []byte
}

// TLV returns the value of the first TLV with tag.
func (p Part) TLV(tag uint16) ([]byte, bool) {
	for _, t := range p.TLVs {
		if t.Tag == tag {
			return t.Value, true
		}
	}
	return nil, false
}

// Sizes from TS 23.040: 140 octets of user data, 160 septets; a UDH and its
// fill bits take whole septets of a GSM message.
const (
	userDataOctets  = 140
	userDataSeptets = 160
	maxPayload      = 0xFFFF
	maxParts        = 255
)

// limits returns how many octets (GSM: septets, one per octet on the wire)
// one message holds alone, and one part holds beside a UDH of udhOctets
// (UDHL included).
func limits(gsm bool, udhOctets int) (single, per int) {
	if gsm {
		return userDataSeptets, userDataSeptets - (udhOctets*8+6)/7
	}
	return userDataOctets, userDataOctets - udhOctets
}

// Split turns text into the parts of one message: encoding and dc0 are as
// for Encode; segmentation is "udh8" (IE 0x00, ref truncated to 8 bits),
// "udh16" (IE 0x08), "sar" (sar_* TLVs, parts sized as for udh8 so that the
// SMSC can turn them into UDH parts) or "payload" (one part, the whole text
// in message_payload, short_message empty). A text that fits one message is
// one plain part. Parts are cut between characters, so no GSM escape pair and
// no UTF-16 surrogate pair is ever split.
func Split(text, encoding, segmentation, dc0 string, ref uint16) ([]Part, error) {
	udh := 6 // 05 00 03 ref total seq
	switch segmentation {
	case "udh8", "sar", "payload":
	case "udh16":
		udh = 7 // 06 08 04 ref ref total seq
	default:
		return nil, fmt.Errorf("segmentation %q unknown (want udh8, udh16, sar or payload)", segmentation)
	}
	dc, all, err := Encode(text, encoding, dc0)
	if err != nil {
		return nil, err
	}
	gsm := dc == DCDefault && (dc0 == "" || dc0 == AlphabetGSM7 || encoding == "gsm7")
	single, per := limits(gsm, udh)
	if len(all) <= single {
		return []Part{{DataCoding: dc, Message: all}}, nil
	}
	if segmentation == "payload" {
		if len(all) > maxPayload {
			return nil, fmt.Errorf("payload: text is %d octets, message_payload holds at most %d", len(all), maxPayload)
		}
		return []Part{{DataCoding: dc, Message: []byte{}, TLVs: []TLV{{Tag: TagMessagePayload, Value: all}}}}, nil
	}
	alphabet := AlphabetGSM7
	switch {
	case dc == DCLatin1:
		alphabet = AlphabetLatin1
	case dc == DCIA5:
		alphabet = AlphabetASCII
	case dc == DCUCS2:
		alphabet = "ucs2"
	case !gsm:
		alphabet = dc0
	}
	// Cut by characters: each character's own encoding is its indivisible
	// unit (two septets for an extension character, two UTF-16 units for a
	// character beyond the BMP).
	var chunks [][]byte
	var cur []byte
	for _, r := range text {
		unit, err := EncodeAlphabet(string(r), alphabet)
		if err != nil {
			return nil, err
		}
		if len(cur)+len(unit) > per {
			chunks = append(chunks, cur)
			cur = nil
		}
		cur = append(cur, unit...)
	}
	chunks = append(chunks, cur)
	if len(chunks) > maxParts {
		return nil, fmt.Errorf("%s: text needs %d parts, at most %d allowed", segmentation, len(chunks), maxParts)
	}
	total := byte(len(chunks))
	parts := make([]Part, len(chunks))
	for i, c := range chunks {
		seq := byte(i + 1)
		p := Part{DataCoding: dc}
		switch segmentation {
		case "udh8":
			p.EsmClass = EsmUDHI
			p.Message = append([]byte{5, ieConcat8, 3, byte(ref), total, seq}, c...)
		case "udh16":
			p.EsmClass = EsmUDHI
			p.Message = append([]byte{6, ieConcat16, 4, byte(ref >> 8), byte(ref), total, seq}, c...)
		case "sar":
			p.Message = c
			p.TLVs = []TLV{
				{Tag: TagSarMsgRefNum, Value: binary.BigEndian.AppendUint16(nil, ref)},
				{Tag: TagSarTotalSegments, Value: []byte{total}},
				{Tag: TagSarSegmentSeqnum, Value: []byte{seq}},
			}
		}
		parts[i] = p
	}
	return parts, nil
}

// userData is message_payload when present, else short_message.
func userData(p Part) ([]byte, error) {
	if v, ok := p.TLV(TagMessagePayload); ok {
		if len(p.Message) > 0 {
			return nil, fmt.Errorf("both short_message (%d octets) and message_payload (%d octets) present", len(p.Message), len(v))
		}
		return v, nil
	}
	return p.Message, nil
}

// header parses the UDH of a part whose esm_class has UDHI set; it returns
// the header and the text octets after it.
func header(p Part) (tpdu.UserDataHeader, []byte, error) {
	data, err := userData(p)
	if err != nil {
		return nil, nil, err
	}
	if p.EsmClass&EsmUDHI == 0 {
		return nil, data, nil
	}
	var udh tpdu.UserDataHeader
	n, err := udh.UnmarshalBinary(data)
	if err != nil {
		return nil, nil, fmt.Errorf("udh: %w", err)
	}
	// The library lets the last IE run past the UDHL; the UDHL must hold
	// exactly the IEs.
	if udh.UDHL() != int(data[0]) {
		return nil, nil, fmt.Errorf("udh: length %d does not match its elements (%d octets)", data[0], udh.UDHL())
	}
	return udh, data[n:], nil
}

// Payload returns a part's text octets, its UDH removed.
func Payload(p Part) ([]byte, error) {
	_, text, err := header(p)
	return text, err
}

// Concat returns a part's place in its message, from a concatenation IE of
// its UDH or from its sar_* TLVs; ok is false for a part of its own.
func Concat(p Part) (ref uint16, total, seq int, ok bool, err error) {
	udh, _, err := header(p)
	if err != nil {
		return 0, 0, 0, false, err
	}
	if n := len(udh.IEs(ieConcat8)) + len(udh.IEs(ieConcat16)); n > 1 {
		return 0, 0, 0, false, fmt.Errorf("udh: %d concatenation elements", n)
	}
	if t, s, r, k := udh.ConcatInfo8(); k {
		ref, total, seq, ok = uint16(r), t, s, true
	} else if t, s, r, k := udh.ConcatInfo16(); k {
		ref, total, seq, ok = uint16(r), t, s, true
	} else if len(udh.IEs(ieConcat8))+len(udh.IEs(ieConcat16)) > 0 {
		return 0, 0, 0, false, fmt.Errorf("udh: concatenation element of the wrong length")
	}
	sref, stotal, sseq, sok, err := sar(p)
	if err != nil {
		return 0, 0, 0, false, err
	}
	switch {
	case ok && sok && (sref != ref || stotal != total || sseq != seq):
		return 0, 0, 0, false, fmt.Errorf("udh (ref %d, %d/%d) and sar TLVs (ref %d, %d/%d) disagree", ref, seq, total, sref, sseq, stotal)
	case !ok:
		ref, total, seq, ok = sref, stotal, sseq, sok
	}
	if ok && (total == 0 || seq == 0 || seq > total) {
		return 0, 0, 0, false, fmt.Errorf("concatenation: part %d of %d", seq, total)
	}
	return ref, total, seq, ok, nil
}

func sar(p Part) (ref uint16, total, seq int, ok bool, err error) {
	r, hasR := p.TLV(TagSarMsgRefNum)
	t, hasT := p.TLV(TagSarTotalSegments)
	s, hasS := p.TLV(TagSarSegmentSeqnum)
	switch {
	case !hasR && !hasT && !hasS:
		return 0, 0, 0, false, nil
	case !hasR || !hasT || !hasS:
		return 0, 0, 0, false, fmt.Errorf("sar: need sar_msg_ref_num, sar_total_segments and sar_segment_seqnum together")
	case len(r) != 2 || len(t) != 1 || len(s) != 1:
		return 0, 0, 0, false, fmt.Errorf("sar: TLV lengths %d/%d/%d, want 2/1/1", len(r), len(t), len(s))
	}
	return binary.BigEndian.Uint16(r), int(t[0]), int(s[0]), true, nil
}

// Text decodes one part on its own (UDH removed).
func Text(p Part, dc0 string) (string, error) {
	octets, err := Payload(p)
	if err != nil {
		return "", err
	}
	return Decode(p.DataCoding, octets, dc0)
}

// Reassemble returns the text of a message from all its parts, in any
// order: each part must carry the same reference and total and every
// sequence number from 1 to total must be there once. Parts with one
// data_coding are decoded as one octet string, so a message whose sender
// split an escape or a surrogate pair still decodes, as a handset would.
func Reassemble(parts []Part, dc0 string) (string, error) {
	if len(parts) == 1 {
		if _, total, _, ok, err := Concat(parts[0]); err != nil || !ok || total == 1 {
			if err != nil {
				return "", err
			}
			return Text(parts[0], dc0)
		}
	}
	type frag struct {
		seq    int
		dc     byte
		octets []byte
	}
	frags := make([]frag, 0, len(parts))
	var ref0 uint16
	var total0 int
	for i, p := range parts {
		ref, total, seq, ok, err := Concat(p)
		if err != nil {
			return "", fmt.Errorf("part %d: %w", i, err)
		}
		if !ok {
			return "", fmt.Errorf("part %d: not a concatenated part", i)
		}
		if i == 0 {
			ref0, total0 = ref, total
		} else if ref != ref0 || total != total0 {
			return "", fmt.Errorf("part %d: ref %d of %d parts, part 0 had ref %d of %d", i, ref, total, ref0, total0)
		}
		octets, err := Payload(p)
		if err != nil {
			return "", fmt.Errorf("part %d: %w", i, err)
		}
		frags = append(frags, frag{seq: seq, dc: p.DataCoding, octets: octets})
	}
	if len(frags) != total0 {
		return "", fmt.Errorf("have %d parts of %d", len(frags), total0)
	}
	sort.Slice(frags, func(a, b int) bool { return frags[a].seq < frags[b].seq })
	same := true
	for i, f := range frags {
		if f.seq != i+1 {
			return "", fmt.Errorf("part %d missing or repeated", i+1)
		}
		same = same && f.dc == frags[0].dc
	}
	if same {
		var all []byte
		for _, f := range frags {
			all = append(all, f.octets...)
		}
		return Decode(frags[0].dc, all, dc0)
	}
	var sb strings.Builder
	for _, f := range frags {
		s, err := Decode(f.dc, f.octets, dc0)
		if err != nil {
			return "", fmt.Errorf("part %d: %w", f.seq, err)
		}
		sb.WriteString(s)
	}
	return sb.String(), nil
}
