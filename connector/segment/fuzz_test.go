package segment

import (
	"strings"
	"testing"
)

// partsFromBytes turns fuzz input into parts: repeated records of
// esm_class, data_coding, source selector, short_message length, the
// short_message, TLV count, then per TLV tag (2), length (1), value.
func partsFromBytes(b []byte) (parts []Part, sources []string) {
	next := func(n int) []byte {
		if n > len(b) {
			n = len(b)
		}
		v := b[:n]
		b = b[n:]
		return v
	}
	one := func() int {
		if v := next(1); len(v) == 1 {
			return int(v[0])
		}
		return 0
	}
	for len(b) > 0 && len(parts) < 64 {
		p := Part{EsmClass: byte(one()), DataCoding: byte(one())}
		src := string(rune('a' + one()%3))
		p.Message = next(one())
		for n := one() % 5; n > 0; n-- {
			tag := uint16(one())<<8 | uint16(one())
			p.TLVs = append(p.TLVs, TLV{Tag: tag, Value: next(one())})
		}
		parts = append(parts, p)
		sources = append(sources, src)
	}
	return parts, sources
}

func partsToBytes(parts []Part) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p.EsmClass, p.DataCoding, 0, byte(len(p.Message)))
		b = append(b, p.Message...)
		b = append(b, byte(len(p.TLVs)))
		for _, t := range p.TLVs {
			b = append(b, byte(t.Tag>>8), byte(t.Tag), byte(len(t.Value)))
			b = append(b, t.Value...)
		}
	}
	return b
}

// FuzzConcatJoin feeds arbitrary parts to what the MO path runs on each
// deliver_sm (Concat, Payload) and on a complete message (Join): nothing
// panics, Concat's answers are in range, and an error comes without text.
func FuzzConcatJoin(f *testing.F) {
	for _, seg := range []string{"udh8", "udh16", "sar"} {
		for _, text := range []string{strings.Repeat("ab€", 60), strings.Repeat("😀", 40)} {
			parts, err := Segment(text, "auto", seg, 42)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(partsToBytes(parts))
			f.Add(partsToBytes([]Part{parts[1], parts[0], parts[1]}))
		}
	}
	f.Add(partsToBytes([]Part{{EsmClass: 0x40, Message: []byte{9, 0, 3, 1, 2}}}))
	f.Add(partsToBytes([]Part{{EsmClass: 0x40, Message: []byte{5, 0, 3, 1, 0, 0}}}))
	f.Add(partsToBytes([]Part{{TLVs: []TLV{{Tag: 0x0424, Value: []byte{5, 0, 3, 1, 2, 1}}}, EsmClass: 0x40}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		parts, _ := partsFromBytes(b)
		var frags []Fragment
		for _, p := range parts {
			ref, total, seq, ok, err := Concat(p)
			if err == nil && ok && (total < 1 || total > 255 || seq < 1 || seq > total) {
				t.Fatalf("Concat accepted ref %d total %d seq %d", ref, total, seq)
			}
			if err != nil && ok {
				t.Fatal("ok with error")
			}
			data, err := Payload(p)
			if err != nil {
				continue
			}
			frags = append(frags, Fragment{DataCoding: p.DataCoding, Octets: data})
		}
		for _, dc0 := range []string{"gsm7", "latin1", "ascii"} {
			if text, err := Join(frags, dc0); err != nil && text != "" {
				t.Fatalf("Join error %v with text %q", err, text)
			}
		}
	})
}

// FuzzSegment: whatever the text, Segment either errors or gives parts that
// fit an SMS, decode on their own, and reassemble to the text.
func FuzzSegment(f *testing.F) {
	f.Add(strings.Repeat("a", 152)+"€b", uint8(0), uint8(0))
	f.Add(strings.Repeat("😀", 70), uint8(1), uint8(1))
	f.Add(strings.Repeat("é", 141), uint8(2), uint8(2))
	encs := []string{"gsm7", "ucs2", "latin1", "auto"}
	segs := []string{"udh8", "udh16", "sar", "payload"}
	f.Fuzz(func(t *testing.T, text string, e, s uint8) {
		enc, seg := encs[int(e)%len(encs)], segs[int(s)%len(segs)]
		parts, err := Segment(text, enc, seg, 0xBEEF)
		if err != nil {
			return
		}
		frags := make([]Fragment, len(parts))
		for i := len(parts) - 1; i >= 0; i-- {
			p := parts[i]
			if len(p.Message) > 160 || (p.DataCoding != 0 && len(p.Message) > 140) {
				t.Fatalf("part %d: short_message %d octets", i+1, len(p.Message))
			}
			_, data, err := splitUDH(p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Decode(p.DataCoding, data, "gsm7"); err != nil {
				t.Fatalf("part %d does not decode alone: %v", i+1, err)
			}
			if _, total, seq, ok, err := Concat(p); err != nil || (ok && (total != len(parts) || seq != i+1)) {
				t.Fatalf("part %d: Concat %d/%d %v %v", i+1, seq, total, ok, err)
			}
			frags[i] = Fragment{DataCoding: p.DataCoding, Octets: data}
		}
		if got, err := Join(frags, "gsm7"); err != nil || got != text {
			t.Fatalf("joined %q, %v; want %q", got, err, text)
		}
	})
}
