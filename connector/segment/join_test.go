package segment

import (
	"math/rand"
	"strings"
	"testing"
)

func longText(enc string) string {
	switch enc {
	case "gsm7":
		return strings.Repeat("Hello [world] {€} ~^|\\ @£$ ", 20)
	case "latin1":
		return strings.Repeat("Grüße, ça coûte 5£ ¿¡ ", 20)
	default: // ucs2, auto
		return strings.Repeat("Привет 😀 мир € ç 👍🏽 ", 20)
	}
}

// join does what the MO path does with a message's parts once the store has
// them all: each part's place from Concat, its octets from Payload, then
// Join in order.
func join(t *testing.T, parts []Part, dc0 string) string {
	t.Helper()
	frags := make([]Fragment, len(parts))
	for _, p := range parts {
		_, total, seq, ok, err := Concat(p)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			total, seq = 1, 1
		}
		if total != len(parts) {
			t.Fatalf("part says %d parts, have %d", total, len(parts))
		}
		data, err := Payload(p)
		if err != nil {
			t.Fatal(err)
		}
		frags[seq-1] = Fragment{DataCoding: p.DataCoding, Octets: data}
	}
	text, err := Join(frags, dc0)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// Segment -> shuffle -> Concat, Payload, Join gives back the text, for every
// segmentation and encoding.
func TestRoundTripShuffled(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, seg := range []string{"udh8", "udh16", "sar", "payload"} {
		for _, enc := range []string{"gsm7", "ucs2", "latin1", "auto"} {
			t.Run(seg+"/"+enc, func(t *testing.T) {
				text := longText(enc)
				parts, err := Segment(text, enc, seg, 300)
				if err != nil {
					t.Fatal(err)
				}
				if seg != "payload" && len(parts) < 3 {
					t.Fatalf("only %d parts", len(parts))
				}
				rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
				if got := join(t, parts, "gsm7"); got != text {
					t.Fatalf("joined %q, want %q", got, text)
				}
			})
		}
	}
}

func TestJoinSplitPairs(t *testing.T) {
	// Another SMSC may cut an escape or a surrogate pair between parts:
	// parts sharing a data_coding are decoded together.
	udh := func(seq byte, b ...byte) Part {
		return Part{EsmClass: 0x40, DataCoding: b[0], Message: append([]byte{5, 0, 3, 9, 2, seq}, b[1:]...)}
	}
	tests := []struct {
		name   string
		p1, p2 Part
		want   string
	}{
		{"gsm7 escape split", udh(1, 0, 'a', 0x1B), udh(2, 0, 0x65, 'b'), "a€b"},
		{"ucs2 surrogate split", udh(1, 8, 0, 'a', 0xD8, 0x3D), udh(2, 8, 0xDE, 0x00), "a😀"},
		{"mixed codings decode per part", udh(1, 0, 'a', 0x1B, 0x65), udh(2, 8, 0x04, 0x36), "a€ж"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := join(t, []Part{tt.p2, tt.p1}, "gsm7"); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// Data coding 0 means the operator's default alphabet: the same octets are
// GSM septets from one SMSC and Latin-1 from another.
func TestJoinDataCoding0Alphabet(t *testing.T) {
	frags := []Fragment{{DataCoding: 0, Octets: []byte{'c', 'a', 'f'}}, {DataCoding: 0, Octets: []byte{0xE9}}}
	if got, err := Join(frags, "latin1"); err != nil || got != "café" {
		t.Fatalf("latin1: %q, %v", got, err)
	}
	if _, err := Join(frags, "gsm7"); err == nil {
		t.Fatal("0xE9 read as a GSM septet")
	}
	mixed := []Fragment{{DataCoding: 0, Octets: []byte{0xE9}}, {DataCoding: 8, Octets: []byte{0x04, 0x36}}}
	if got, err := Join(mixed, "latin1"); err != nil || got != "éж" {
		t.Fatalf("latin1 then ucs2: %q, %v", got, err)
	}
	if got, err := Join(nil, "gsm7"); err != nil || got != "" {
		t.Fatalf("no parts: %q, %v", got, err)
	}
}
