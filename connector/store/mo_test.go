package store_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/store"
)

func addMO(t *testing.T, s *store.Store, k store.MOKey, seq int, text string) store.MOResult {
	t.Helper()
	return must[store.MOResult](t)(s.AddMOPart(ctxT(t), k, store.MOPart{Seq: seq, Octets: []byte(text)}))
}

func joined(m store.MOMessage) string {
	var out string
	for _, p := range m.Parts {
		out += string(p.Octets)
	}
	return out
}

func TestMOPartsCompleteOnceAndSurviveARestart(t *testing.T) {
	s, dsn := open(t, store.Options{})
	k := store.MOKey{OperatorID: "mno-a", Source: "447700900001", Destination: "ACME", Ref: 300, Total: 3}
	if r := addMO(t, s, k, 3, "c"); r.Complete || r.Duplicate {
		t.Fatalf("part 3: %+v", r)
	}
	addMO(t, s, k, 1, "a")
	// The connector restarts: a new store on the same database has the parts.
	s.Close()
	s2, err := store.Open(ctxT(t), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s2.Close)
	if r := addMO(t, s2, k, 1, "a"); r.Complete || r.Duplicate || r.Abandoned != 0 {
		t.Fatalf("repeated part 1: %+v", r)
	}
	r := addMO(t, s2, k, 2, "b")
	if !r.Complete || joined(r.Message) != "abc" || r.Message.FirstReceipt.IsZero() {
		t.Fatalf("part 2: %+v", r)
	}
	// Not published yet (the publish failed): the last part delivered again
	// completes the same message again.
	again := addMO(t, s2, k, 2, "b")
	if !again.Complete || !again.Message.FirstReceipt.Equal(r.Message.FirstReceipt) {
		t.Fatalf("redelivered last part: %+v", again)
	}
	if err := s2.MarkMOPublished(ctxT(t), again.Message); err != nil {
		t.Fatal(err)
	}
	// Published: a late copy of any part is a duplicate, not a new message.
	for seq, text := range map[int]string{1: "a", 2: "b", 3: "c"} {
		if r := addMO(t, s2, k, seq, text); !r.Duplicate || r.Complete {
			t.Fatalf("late copy of part %d: %+v", seq, r)
		}
	}
	// The handset reuses the reference: a different part starts a new message.
	if r := addMO(t, s2, k, 1, "x"); r.Duplicate || r.Complete || r.Abandoned != 0 {
		t.Fatalf("new message's part 1: %+v", r)
	}
	addMO(t, s2, k, 2, "y")
	if r := addMO(t, s2, k, 3, "z"); !r.Complete || joined(r.Message) != "xyz" {
		t.Fatalf("new message: %+v", r)
	}
}

// An unfinished message whose reference is reused: the new message must not
// borrow the old one's parts.
func TestMOReferenceReusedOverAnUnfinishedMessage(t *testing.T) {
	s, _ := open(t, store.Options{})
	k := store.MOKey{OperatorID: "mno-a", Source: "447700900003", Destination: "ACME", Ref: 9, Total: 2}
	addMO(t, s, k, 1, "old") // its part 2 never comes
	r := addMO(t, s, k, 1, "new")
	if r.Abandoned != 1 || r.Complete {
		t.Fatalf("new part 1 over the old one: %+v", r)
	}
	if r := addMO(t, s, k, 2, "!"); !r.Complete || joined(r.Message) != "new!" {
		t.Fatalf("new message: %+v", r)
	}
}

func TestMOPartsArrivingTogetherCompleteExactlyOnce(t *testing.T) {
	s, _ := open(t, store.Options{})
	for round := range 20 {
		k := store.MOKey{OperatorID: "mno-a", Source: "447700900002", Destination: "ACME", Ref: uint16(round), Total: 4}
		var wg sync.WaitGroup
		var mu sync.Mutex
		completions := 0
		for seq := 1; seq <= 4; seq++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := s.AddMOPart(ctxT(t), k, store.MOPart{Seq: seq, Octets: []byte{byte('0' + seq)}})
				if err != nil {
					t.Error(err)
				}
				if r.Complete {
					mu.Lock()
					completions++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if completions != 1 {
			t.Fatalf("round %d: %d parts saw the message complete, want 1", round, completions)
		}
	}
}

func TestMOPartsBadInputAndExpiry(t *testing.T) {
	s, dsn := open(t, store.Options{})
	k := store.MOKey{OperatorID: "mno-a", Source: "1", Destination: "2", Ref: 1, Total: 2}
	if _, err := s.AddMOPart(ctxT(t), k, store.MOPart{Seq: 3}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("part 3 of 2: %v", err)
	}
	if _, err := s.AddMOPart(ctxT(t), store.MOKey{OperatorID: "mno-a", Total: 1}, store.MOPart{Seq: 1}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("one-part message: %v", err)
	}
	// An alphanumeric sender in Latin-1, NUL included: stored, not refused for ever.
	latin := store.MOKey{OperatorID: "mno-a", Source: "Caf\xe9\x00", Destination: "2", Ref: 2, Total: 2}
	if _, err := s.AddMOPart(ctxT(t), latin, store.MOPart{Seq: 1, Octets: []byte("a")}); err != nil {
		t.Fatalf("Latin-1 sender: %v", err)
	}
	if r := must[store.MOResult](t)(s.AddMOPart(ctxT(t), latin, store.MOPart{Seq: 2, Octets: []byte("b")})); !r.Complete {
		t.Fatalf("Latin-1 sender's message: %+v", r)
	}

	old := store.MOKey{OperatorID: "mno-a", Source: "1", Destination: "2", Ref: 7, Total: 3}
	for seq := 1; seq <= 2; seq++ {
		if _, err := s.AddMOPart(ctxT(t), old, store.MOPart{Seq: seq, Received: time.Now().Add(-2 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	published := store.MOKey{OperatorID: "mno-a", Source: "1", Destination: "2", Ref: 8, Total: 2}
	addMO(t, s, published, 1, "p")
	r := must[store.MOResult](t)(s.AddMOPart(ctxT(t), published, store.MOPart{Seq: 2, Received: time.Now().Add(-3 * time.Hour)}))
	if err := s.MarkMOPublished(ctxT(t), r.Message); err != nil {
		t.Fatal(err)
	}
	addMO(t, s, k, 1, "young")
	expired := must[map[store.MOKey]int](t)(s.ExpireMOParts(ctxT(t), time.Hour))
	if len(expired) != 1 || expired[old] != 2 {
		t.Fatalf("expired %v, want the old unfinished message with its 2 parts (the published one silently)", expired)
	}
	var left int
	if err := connect(t, dsn).QueryRow(ctxT(t), `SELECT count(*) FROM smpp.mo_parts`).Scan(&left); err != nil || left != 3 {
		t.Fatalf("%d parts left (%v), want the young one and the Latin-1 message's two", left, err)
	}
}

// Past the duplicate window the same parts are a new message (a handset
// sending the same text with the same reference again), not copies.
func TestMODuplicatesOnlyWithinTheWindow(t *testing.T) {
	s, dsn := open(t, store.Options{})
	k := store.MOKey{OperatorID: "mno-a", Source: "447700900004", Destination: "ACME", Ref: 0, Total: 2}
	addMO(t, s, k, 1, "same ")
	r := addMO(t, s, k, 2, "text")
	if err := s.MarkMOPublished(ctxT(t), r.Message); err != nil {
		t.Fatal(err)
	}
	if d := addMO(t, s, k, 1, "same "); !d.Duplicate {
		t.Fatalf("copy within the window: %+v", d)
	}
	if _, err := connect(t, dsn).Exec(ctxT(t), `UPDATE smpp.mo_parts SET published_at = now() - interval '10 minutes'`); err != nil {
		t.Fatal(err)
	}
	if d := addMO(t, s, k, 1, "same "); d.Duplicate || d.Complete {
		t.Fatalf("same part after the window: %+v", d)
	}
	if again := addMO(t, s, k, 2, "text"); !again.Complete || joined(again.Message) != "same text" {
		t.Fatalf("the repeated message: %+v", again)
	}
}
