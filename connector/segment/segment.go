package segment

import (
	"encoding/binary"
	"fmt"
)

// TLV tags used for segmentation.
const (
	TagSarMsgRefNum     uint16 = 0x020C
	TagSarTotalSegments uint16 = 0x020E
	TagSarSegmentSeqnum uint16 = 0x020F
	TagMessagePayload   uint16 = 0x0424
)

// EsmClassUDHI is the esm_class bit saying short_message (or message_payload)
// starts with a user data header.
const EsmClassUDHI byte = 0x40

// Part is one submit_sm's or deliver_sm's worth of a message.
type Part struct {
	EsmClass   byte   // 0x40 (UDHI) when Message starts with a UDH
	DataCoding byte   // 0x00 GSM7, 0x08 UCS2, 0x03 Latin-1
	Message    []byte // short_message octets, UDH included; empty when the text is in message_payload
	// TLVs, in order: sar_msg_ref_num (0x020C, 2 octets), sar_total_segments
	// (0x020E, 1), sar_segment_seqnum (0x020F, 1), message_payload (0x0424).
	TLVs []TLV
}

// TLV is one optional parameter of a deliver_sm.
type TLV struct {
	Tag   uint16
	Value []byte
}

// TLV returns the value of the first TLV with tag, and whether there was one.
func (p Part) TLV(tag uint16) ([]byte, bool) {
	for _, t := range p.TLVs {
		if t.Tag == tag {
			return t.Value, true
		}
	}
	return nil, false
}

// Per-part limits, in octets of the encoded text (unpacked GSM7 counts one
// octet per septet).
const (
	maxShortMessage = 140 // octets of user data in one SMS
	maxSeptets      = 160
	maxPayload      = 0xFFFF
	maxParts        = 255
)

// capacity returns the single-part limit and the per-part limit when
// segmented, for data coding dc and segmentation seg.
func capacity(dc byte, seg string) (single, per int) {
	single = maxShortMessage
	if dc == DataCodingGSM7 {
		single = maxSeptets
	}
	udhLen := 6 // 05 00 03 ref total seq; SAR is sized the same (conservative)
	if seg == "udh16" {
		udhLen = 7 // 06 08 04 ref ref total seq
	}
	switch dc {
	case DataCodingGSM7:
		// The UDH and its fill bits take whole septets: ceil(udhLen*8/7).
		per = maxSeptets - (udhLen*8+6)/7
	case DataCodingUCS2:
		per = (maxShortMessage - udhLen) &^ 1
	default:
		per = maxShortMessage - udhLen
	}
	return single, per
}

// Segment splits text into the parts of a mobile-originated message.
// encoding is as for Encode. segmentation is "udh8" (IEI 0x00, 8-bit
// reference: ref is truncated), "udh16" (IEI 0x08, 16-bit reference), "sar"
// (sar_* TLVs, no UDH) or "payload" (one part, the whole text in
// message_payload and an empty short_message).
//
// A text that fits one SMS (160 GSM7 septets, 70 UCS2 units, 140 Latin-1
// octets) is one part with no UDH, SAR or payload, whatever segmentation.
// Parts hold at most 153 septets / 134 octets (udh8 and sar) or 152 septets
// / 132 octets UCS2 / 133 octets Latin-1 (udh16). No part ends between a
// GSM7 escape and its code or between the halves of a UTF-16 surrogate pair.
func Segment(text, encoding, segmentation string, ref uint16) ([]Part, error) {
	switch segmentation {
	case "udh8", "udh16", "sar", "payload":
	default:
		return nil, fmt.Errorf("segmentation %q unknown (want udh8, udh16, sar or payload)", segmentation)
	}
	dc, octets, err := Encode(text, encoding)
	if err != nil {
		return nil, err
	}
	single, per := capacity(dc, segmentation)
	if len(octets) <= single {
		return []Part{{DataCoding: dc, Message: octets}}, nil
	}
	if segmentation == "payload" {
		if len(octets) > maxPayload {
			return nil, fmt.Errorf("payload: text is %d octets, message_payload holds at most %d", len(octets), maxPayload)
		}
		return []Part{{DataCoding: dc, Message: []byte{}, TLVs: []TLV{{Tag: TagMessagePayload, Value: octets}}}}, nil
	}

	var chunks [][]byte
	for rest := octets; len(rest) > 0; {
		end := min(per, len(rest))
		if end < len(rest) {
			switch dc {
			case DataCodingGSM7:
				// Encode never emits 0x1B except as an escape prefix.
				if rest[end-1] == esc {
					end--
				}
			case DataCodingUCS2:
				if hi := rune(rest[end-2])<<8 | rune(rest[end-1]); hi >= 0xD800 && hi <= 0xDBFF {
					end -= 2
				}
			}
		}
		chunks = append(chunks, rest[:end])
		rest = rest[end:]
	}
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
			p.EsmClass = EsmClassUDHI
			p.Message = append([]byte{0x05, 0x00, 0x03, byte(ref), total, seq}, c...)
		case "udh16":
			p.EsmClass = EsmClassUDHI
			p.Message = append([]byte{0x06, 0x08, 0x04, byte(ref >> 8), byte(ref), total, seq}, c...)
		case "sar":
			p.Message = append([]byte(nil), c...)
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

// userData returns the octets carrying the user data (message_payload when
// present, else short_message) and what they are called in errors.
func userData(p Part) ([]byte, string, error) {
	if v, ok := p.TLV(TagMessagePayload); ok {
		if len(p.Message) > 0 {
			return nil, "", fmt.Errorf("both short_message (%d octets) and message_payload (%d octets) present", len(p.Message), len(v))
		}
		return v, "message_payload", nil
	}
	return p.Message, "short_message", nil
}

// splitUDH returns the UDH (without its length octet) and the text octets
// that follow it, when the UDHI bit is set; otherwise nil and all of data.
func splitUDH(p Part) (udh, text []byte, err error) {
	data, field, err := userData(p)
	if err != nil {
		return nil, nil, err
	}
	if p.EsmClass&EsmClassUDHI == 0 {
		return nil, data, nil
	}
	if len(data) == 0 {
		return nil, nil, fmt.Errorf("udh: esm_class 0x%02X has UDHI set but %s is empty", p.EsmClass, field)
	}
	n := int(data[0])
	if 1+n > len(data) {
		return nil, nil, fmt.Errorf("udh: length %d exceeds %s of %d octets", n, field, len(data))
	}
	return data[1 : 1+n], data[1+n:], nil
}

// Concat extracts segmentation information from a part: an 8-bit (IEI 0x00)
// or 16-bit (IEI 0x08) concatenation IE in the UDH, or the three sar_* TLVs.
// ok is false, with no error, for a part that is not segmented. A malformed
// UDH or SAR set, total 0, seq 0 or seq > total is an error.
func Concat(p Part) (ref uint16, total, seq int, ok bool, err error) {
	udh, _, err := splitUDH(p)
	if err != nil {
		return 0, 0, 0, false, err
	}
	for i := 0; i < len(udh); {
		if i+2 > len(udh) {
			return 0, 0, 0, false, fmt.Errorf("udh: IE header at offset %d truncated (UDH is %d octets)", i, len(udh))
		}
		iei, iel := udh[i], int(udh[i+1])
		if i+2+iel > len(udh) {
			return 0, 0, 0, false, fmt.Errorf("udh: IE 0x%02X length %d exceeds UDH (%d octets left)", iei, iel, len(udh)-i-2)
		}
		v := udh[i+2 : i+2+iel]
		i += 2 + iel
		var r uint16
		var t, s int
		switch iei {
		case 0x00:
			if iel != 3 {
				return 0, 0, 0, false, fmt.Errorf("udh: concatenation IE 0x00 has length %d, want 3", iel)
			}
			r, t, s = uint16(v[0]), int(v[1]), int(v[2])
		case 0x08:
			if iel != 4 {
				return 0, 0, 0, false, fmt.Errorf("udh: concatenation IE 0x08 has length %d, want 4", iel)
			}
			r, t, s = binary.BigEndian.Uint16(v), int(v[2]), int(v[3])
		default:
			continue
		}
		if ok {
			return 0, 0, 0, false, fmt.Errorf("udh: more than one concatenation IE")
		}
		if err := checkSeq("udh", t, s); err != nil {
			return 0, 0, 0, false, err
		}
		ref, total, seq, ok = r, t, s, true
	}

	sr, st, ss, sok, err := sarInfo(p)
	if err != nil {
		return 0, 0, 0, false, err
	}
	if ok && sok && (sr != ref || st != total || ss != seq) {
		return 0, 0, 0, false, fmt.Errorf("UDH concatenation (ref %d, %d/%d) and SAR TLVs (ref %d, %d/%d) disagree", ref, seq, total, sr, ss, st)
	}
	if ok {
		return ref, total, seq, true, nil
	}
	return sr, st, ss, sok, nil
}

func checkSeq(what string, total, seq int) error {
	switch {
	case total == 0:
		return fmt.Errorf("%s: total segments is 0", what)
	case seq == 0:
		return fmt.Errorf("%s: segment number is 0", what)
	case seq > total:
		return fmt.Errorf("%s: segment number %d exceeds total %d", what, seq, total)
	}
	return nil
}

func sarInfo(p Part) (ref uint16, total, seq int, ok bool, err error) {
	rv, hasRef := p.TLV(TagSarMsgRefNum)
	tv, hasTotal := p.TLV(TagSarTotalSegments)
	sv, hasSeq := p.TLV(TagSarSegmentSeqnum)
	if !hasRef && !hasTotal && !hasSeq {
		return 0, 0, 0, false, nil
	}
	switch {
	case !hasRef:
		return 0, 0, 0, false, fmt.Errorf("sar: sar_msg_ref_num (0x020C) missing")
	case !hasTotal:
		return 0, 0, 0, false, fmt.Errorf("sar: sar_total_segments (0x020E) missing")
	case !hasSeq:
		return 0, 0, 0, false, fmt.Errorf("sar: sar_segment_seqnum (0x020F) missing")
	case len(rv) != 2:
		return 0, 0, 0, false, fmt.Errorf("sar: sar_msg_ref_num (0x020C) has %d octets, want 2", len(rv))
	case len(tv) != 1:
		return 0, 0, 0, false, fmt.Errorf("sar: sar_total_segments (0x020E) has %d octets, want 1", len(tv))
	case len(sv) != 1:
		return 0, 0, 0, false, fmt.Errorf("sar: sar_segment_seqnum (0x020F) has %d octets, want 1", len(sv))
	}
	ref, total, seq = binary.BigEndian.Uint16(rv), int(tv[0]), int(sv[0])
	if err := checkSeq("sar", total, seq); err != nil {
		return 0, 0, 0, false, err
	}
	return ref, total, seq, true, nil
}
