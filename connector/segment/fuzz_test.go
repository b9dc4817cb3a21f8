package segment

import (
	"strings"
	"testing"
	"time"
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

func FuzzReassemble(f *testing.F) {
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
		parts, sources := partsFromBytes(b)
		r := NewReassembler(3, time.Minute)
		now := t0
		for i, p := range parts {
			ref, total, seq, ok, err := Concat(p)
			if err == nil && ok && (total < 1 || total > 255 || seq < 1 || seq > total) {
				t.Fatalf("Concat accepted ref %d total %d seq %d", ref, total, seq)
			}
			if err != nil && ok {
				t.Fatal("ok with error")
			}
			text, complete, err := r.Add(now, sources[i], "d", p)
			if err != nil && (complete || text != "") {
				t.Fatalf("error %v with complete %v text %q", err, complete, text)
			}
			now = now.Add(time.Duration(i) * 10 * time.Second)
			if s := r.Stats(); s.Pending > 3 {
				t.Fatalf("pending %d > maxPending 3", s.Pending)
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
		r := NewReassembler(1, time.Minute)
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
			got, complete, err := r.Add(t0, "s", "d", p)
			if err != nil || complete != (i == 0) {
				t.Fatalf("part %d: complete %v err %v", i+1, complete, err)
			}
			if complete && got != text {
				t.Fatalf("reassembled %q, want %q", got, text)
			}
		}
	})
}
