package store_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/store"
)

func TestMOPartsCompleteOnceAndSurviveARestart(t *testing.T) {
	s, dsn := open(t, store.Options{})
	k := store.MOKey{OperatorID: "mno-a", Source: "447700900001", Destination: "ACME", Ref: 300, Total: 3}
	if _, done, err := s.AddMOPart(ctxT(t), k, store.MOPart{Seq: 3, Octets: []byte("c")}); err != nil || done {
		t.Fatalf("part 3: complete=%v %v", done, err)
	}
	if _, done, err := s.AddMOPart(ctxT(t), k, store.MOPart{Seq: 1, Octets: []byte("a")}); err != nil || done {
		t.Fatalf("part 1: complete=%v %v", done, err)
	}
	// The connector restarts: a new store on the same database has the parts.
	s.Close()
	s2, err := store.Open(ctxT(t), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s2.Close)
	// A repeated part changes nothing.
	if _, done, err := s2.AddMOPart(ctxT(t), k, store.MOPart{Seq: 1, Octets: []byte("X")}); err != nil || done {
		t.Fatalf("repeated part 1: complete=%v %v", done, err)
	}
	msg, done, err := s2.AddMOPart(ctxT(t), k, store.MOPart{Seq: 2, DataCoding: 0, Octets: []byte("b")})
	if err != nil || !done {
		t.Fatalf("part 2: complete=%v %v", done, err)
	}
	var got string
	for _, p := range msg.Parts {
		got += string(p.Octets)
	}
	if got != "abc" || msg.FirstReceipt.IsZero() {
		t.Fatalf("message %q first=%v", got, msg.FirstReceipt)
	}
	// Until forgotten, the last part delivered again completes it again (a
	// publish that failed is retried); afterwards it starts a new message.
	if again, done, _ := s2.AddMOPart(ctxT(t), k, store.MOPart{Seq: 2, Octets: []byte("b")}); !done || !again.FirstReceipt.Equal(msg.FirstReceipt) {
		t.Fatalf("redelivered last part: complete=%v first=%v", done, again.FirstReceipt)
	}
	if err := s2.ForgetMO(ctxT(t), k); err != nil {
		t.Fatal(err)
	}
	if _, done, _ := s2.AddMOPart(ctxT(t), k, store.MOPart{Seq: 2, Octets: []byte("b")}); done {
		t.Fatal("forgotten message completed again")
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
				_, done, err := s.AddMOPart(ctxT(t), k, store.MOPart{Seq: seq, Octets: []byte{byte('0' + seq)}})
				if err != nil {
					t.Error(err)
				}
				if done {
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
	if _, _, err := s.AddMOPart(ctxT(t), k, store.MOPart{Seq: 3}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("part 3 of 2: %v", err)
	}
	if _, _, err := s.AddMOPart(ctxT(t), store.MOKey{OperatorID: "mno-a", Total: 1}, store.MOPart{Seq: 1}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("one-part message: %v", err)
	}
	old := store.MOKey{OperatorID: "mno-a", Source: "1", Destination: "2", Ref: 7, Total: 3}
	for seq := 1; seq <= 2; seq++ {
		if _, _, err := s.AddMOPart(ctxT(t), old, store.MOPart{Seq: seq, Received: time.Now().Add(-2 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.AddMOPart(ctxT(t), k, store.MOPart{Seq: 1}); err != nil {
		t.Fatal(err)
	}
	expired := must[map[store.MOKey]int](t)(s.ExpireMOParts(ctxT(t), time.Hour))
	if len(expired) != 1 || expired[old] != 2 {
		t.Fatalf("expired %v, want the old message with its 2 parts", expired)
	}
	var left int
	if err := connect(t, dsn).QueryRow(ctxT(t), `SELECT count(*) FROM smpp.mo_parts`).Scan(&left); err != nil || left != 1 {
		t.Fatalf("%d parts left (%v), want the young one", left, err)
	}
}
