package segment

import (
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

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

// Segment -> shuffle -> Reassembler gives back the text, for every
// segmentation and encoding, with several messages interleaved and parts
// repeated.
func TestRoundTripShuffled(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, seg := range []string{"udh8", "udh16", "sar", "payload"} {
		for _, enc := range []string{"gsm7", "ucs2", "latin1", "auto"} {
			t.Run(seg+"/"+enc, func(t *testing.T) {
				type item struct {
					src string
					p   Part
				}
				var items []item
				want := map[string]string{}
				// Two senders using the same ref, plus a different text length
				// from the same sender with another ref.
				for i, src := range []string{"4711", "4712", "4711"} {
					text := string([]rune(longText(enc))[i*7:])
					parts, err := Segment(text, enc, seg, uint16(300+i/2))
					if err != nil {
						t.Fatal(err)
					}
					if seg != "payload" && len(parts) < 3 {
						t.Fatalf("only %d parts", len(parts))
					}
					key := fmt.Sprintf("%s/%d", src, i)
					want[key] = text
					for _, p := range parts {
						items = append(items, item{src, p})
					}
					items = append(items, item{src, parts[0]}) // a repeat
				}
				rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })

				r := NewReassembler(10, time.Minute)
				got := map[string]int{}
				for _, it := range items {
					text, complete, err := r.Add(t0, it.src, "100", it.p)
					if err != nil {
						t.Fatal(err)
					}
					if complete {
						found := false
						for k, w := range want {
							if strings.HasPrefix(k, it.src+"/") && w == text {
								got[k]++
								found = true
							}
						}
						if !found {
							t.Fatalf("completed unexpected text %q", text)
						}
					}
				}
				for k := range want {
					// A repeat of part 1 arriving after completion starts a
					// new (never completed) message, except for single parts.
					if got[k] < 1 {
						t.Errorf("message %s not completed", k)
					}
					if seg != "payload" && got[k] != 1 {
						t.Errorf("message %s completed %d times", k, got[k])
					}
				}
			})
		}
	}
}

func TestReassembleSplitPairs(t *testing.T) {
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
			r := NewReassembler(4, time.Minute)
			if _, c, err := r.Add(t0, "a", "b", tt.p2); c || err != nil {
				t.Fatalf("part 2: %v %v", c, err)
			}
			text, c, err := r.Add(t0, "a", "b", tt.p1)
			if !c || err != nil || text != tt.want {
				t.Fatalf("got %q %v %v, want %q", text, c, err, tt.want)
			}
		})
	}
}

func TestReassemblerPassThroughAndErrors(t *testing.T) {
	r := NewReassembler(4, time.Minute)
	tests := []struct {
		name    string
		p       Part
		want    string
		wantErr string
	}{
		{"plain gsm7", Part{Message: []byte{0x48, 0x1B, 0x65}}, "H€", ""},
		{"plain payload", Part{Message: []byte{}, TLVs: []TLV{{Tag: 0x0424, Value: []byte{0, 'h', 0, 'i'}}}, DataCoding: 8}, "hi", ""},
		{"udh with port IE only is stripped", Part{EsmClass: 0x40, Message: []byte{6, 5, 4, 0x0B, 0x84, 0x23, 0xF0, 'x'}}, "x", ""},
		{"single-part concat", Part{EsmClass: 0x40, Message: []byte{5, 0, 3, 1, 1, 1, 'y'}}, "y", ""},
		{"malformed udh", Part{EsmClass: 0x40, Message: []byte{9, 0, 3, 1, 2}}, "", "udh: length 9 exceeds short_message of 5 octets"},
		{"undecodable", Part{DataCoding: 8, Message: []byte{0, 'a', 0}}, "", "ucs2: odd length 3 octets"},
		{"unknown coding", Part{DataCoding: 0x02, Message: []byte{1}}, "", "data_coding 0x02 not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, complete, err := r.Add(t0, "a", "b", tt.p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || complete {
					t.Fatalf("got %q %v %v, want error %q", text, complete, err, tt.wantErr)
				}
				return
			}
			if err != nil || !complete || text != tt.want {
				t.Fatalf("got %q %v %v, want %q", text, complete, err, tt.want)
			}
		})
	}
	if s := r.Stats(); s.Pending != 0 {
		t.Fatalf("pending %d", s.Pending)
	}

	// A complete message that does not decode is reported and dropped.
	r.Add(t0, "a", "b", Part{EsmClass: 0x40, DataCoding: 8, Message: []byte{5, 0, 3, 1, 2, 1, 0xD8}})
	_, c, err := r.Add(t0, "a", "b", Part{EsmClass: 0x40, DataCoding: 8, Message: []byte{5, 0, 3, 1, 2, 2, 0x3D}})
	if c || err == nil || !strings.Contains(err.Error(), `message ref 1 from "a" to "b": ucs2: unpaired high surrogate 0xD83D at offset 0`) {
		t.Fatalf("got %v %v", c, err)
	}
	if s := r.Stats(); s.Pending != 0 {
		t.Fatalf("pending %d after undecodable message", s.Pending)
	}
}

func TestReassemblerDuplicates(t *testing.T) {
	parts, err := Segment(strings.Repeat("abc", 100), "gsm7", "udh8", 5)
	if err != nil || len(parts) != 2 {
		t.Fatal(len(parts), err)
	}
	r := NewReassembler(4, time.Minute)
	for i := 0; i < 3; i++ {
		if _, c, err := r.Add(t0, "a", "b", parts[0]); c || err != nil {
			t.Fatal(c, err)
		}
	}
	text, c, err := r.Add(t0, "a", "b", parts[1])
	if !c || err != nil || text != strings.Repeat("abc", 100) {
		t.Fatalf("got %d chars %v %v", len(text), c, err)
	}
	if s := r.Stats(); s.Duplicates != 2 || s.Completed != 1 || s.Pending != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// messageParts returns the parts of a 2-part message with ref.
func messageParts(t *testing.T, ref uint16) []Part {
	t.Helper()
	parts, err := Segment(fmt.Sprintf("%03d", ref)+strings.Repeat("x", 200), "gsm7", "udh16", ref)
	if err != nil || len(parts) != 2 {
		t.Fatal(len(parts), err)
	}
	return parts
}

func TestReassemblerBounds(t *testing.T) {
	t.Run("oldest evicted at maxPending", func(t *testing.T) {
		r := NewReassembler(2, time.Hour)
		p1, p2, p3 := messageParts(t, 1), messageParts(t, 2), messageParts(t, 3)
		r.Add(t0, "a", "b", p1[0])
		r.Add(t0.Add(time.Second), "a", "b", p2[0])
		r.Add(t0.Add(2*time.Second), "a", "b", p3[0]) // evicts ref 1
		if s := r.Stats(); s.Evicted != 1 || s.Pending != 2 {
			t.Fatalf("stats %+v", s)
		}
		if _, c, _ := r.Add(t0, "a", "b", p1[1]); c {
			t.Fatal("evicted message completed")
		}
		// That part started a new entry, evicting ref 2.
		if s := r.Stats(); s.Evicted != 2 || s.Pending != 2 {
			t.Fatalf("stats %+v", s)
		}
		if text, c, err := r.Add(t0, "a", "b", p3[1]); !c || err != nil || !strings.HasPrefix(text, "003x") {
			t.Fatalf("message 3: %q %v %v", text, c, err)
		}
		if _, c, _ := r.Add(t0, "a", "b", p2[1]); c {
			t.Fatal("message 2 should have been evicted")
		}
		if s := r.Stats(); s.Evicted != 2 || s.Completed != 1 || s.Pending != 2 {
			t.Fatalf("stats %+v", s)
		}
	})
	t.Run("older than maxAge expired", func(t *testing.T) {
		r := NewReassembler(10, time.Minute)
		p1, p2 := messageParts(t, 1), messageParts(t, 2)
		r.Add(t0, "a", "b", p1[0])
		r.Add(t0.Add(30*time.Second), "a", "b", p2[0])
		if _, c, _ := r.Add(t0.Add(61*time.Second), "a", "b", p1[1]); c {
			t.Fatal("expired message completed")
		}
		if s := r.Stats(); s.Expired != 1 || s.Pending != 2 {
			t.Fatalf("stats %+v", s)
		}
		if text, c, _ := r.Add(t0.Add(89*time.Second), "a", "b", p2[1]); !c || !strings.HasPrefix(text, "002x") {
			t.Fatal("message 2 within maxAge did not complete")
		}
		if n := r.Expire(t0.Add(time.Hour)); n != 1 {
			t.Fatalf("Expire dropped %d, want 1", n)
		}
		if s := r.Stats(); s.Expired != 2 || s.Pending != 0 {
			t.Fatalf("stats %+v", s)
		}
	})
	t.Run("keyed by source, dest, ref and total", func(t *testing.T) {
		r := NewReassembler(10, time.Minute)
		p := messageParts(t, 7)
		r.Add(t0, "a", "b", p[0])
		for _, sd := range [][2]string{{"x", "b"}, {"a", "x"}} {
			if _, c, _ := r.Add(t0, sd[0], sd[1], p[1]); c {
				t.Fatalf("part from %v completed a's message", sd)
			}
		}
		other := Part{EsmClass: 0x40, Message: []byte{6, 8, 4, 0, 7, 3, 2, 'z'}} // ref 7, total 3
		if _, c, _ := r.Add(t0, "a", "b", other); c {
			t.Fatal("part with another total completed the message")
		}
		if s := r.Stats(); s.Pending != 4 {
			t.Fatalf("pending %d, want 4", s.Pending)
		}
	})
}

func TestReassemblerConcurrent(t *testing.T) {
	r := NewReassembler(1000, time.Minute)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			src := fmt.Sprint(g)
			for i := 0; i < 50; i++ {
				text := fmt.Sprintf("%d-%d ", g, i) + strings.Repeat("😀", 80)
				parts, err := Segment(text, "auto", "sar", uint16(i))
				if err != nil {
					errs <- err
					return
				}
				for j := len(parts) - 1; j >= 0; j-- {
					got, c, err := r.Add(t0, src, "d", parts[j])
					if err != nil || c != (j == 0) || (c && got != text) {
						errs <- fmt.Errorf("goroutine %d message %d part %d: %q %v %v", g, i, j, got, c, err)
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s := r.Stats(); s.Completed != 400 || s.Pending != 0 {
		t.Fatalf("stats %+v", s)
	}
}
