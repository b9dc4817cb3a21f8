package store_test

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/store"
)

func fingerprint(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

// prepareWith prepares count parts of msg with a content fingerprint.
func prepareWith(t *testing.T, s *store.Store, msg string, count int, fp []byte) ([]store.PartState, error) {
	t.Helper()
	parts := make([]store.PartRef, count)
	for i := range parts {
		parts[i].Number = i + 1
	}
	return s.PrepareParts(ctxT(t), store.MessageRef{OperatorID: "mno-a", MessageID: msg, PartCount: count, Fingerprint: fp}, parts)
}

// The same message id with another content (same operator, same part count)
// is a conflict, not a redelivery whose parts are already sent; the same
// content is a redelivery and finds its parts.
func TestPrepareRefusesTheSameIDWithOtherContent(t *testing.T) {
	s, _ := open(t, store.Options{})
	first := must[[]store.PartState](t)(prepareWith(t, s, "m-1", 2, fingerprint("hello")))
	if !first[0].Created || !first[1].Created {
		t.Fatalf("first prepare did not create the parts: %+v", first)
	}
	again, err := prepareWith(t, s, "m-1", 2, fingerprint("hello"))
	if err != nil || again[0].Created || again[1].Created {
		t.Fatalf("redelivery: %v %+v", err, again)
	}
	states, err := prepareWith(t, s, "m-1", 2, fingerprint("another text"))
	if !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), "m-1") {
		t.Fatalf("want ErrConflict naming the message, got %v", err)
	}
	if len(states) != 2 || states[0].Created {
		t.Fatalf("states %+v", states)
	}
	// The conflict changed nothing: the first content still redelivers.
	if _, err := prepareWith(t, s, "m-1", 2, fingerprint("hello")); err != nil {
		t.Fatalf("after the conflict: %v", err)
	}
}

// Rows stored without a fingerprint (before the column existed), and
// prepares that give none, keep today's behaviour: no check.
func TestPrepareWithoutFingerprintIsNotAConflict(t *testing.T) {
	s, dsn := open(t, store.Options{})
	must[[]store.PartState](t)(prepareWith(t, s, "old", 1, nil))
	var stored []byte
	if err := connect(t, dsn).QueryRow(ctxT(t),
		`SELECT content_sha256 FROM smpp.message_correlations WHERE message_id = 'old'`).Scan(&stored); err != nil || stored != nil {
		t.Fatalf("stored %x, %v: want NULL", stored, err)
	}
	if _, err := prepareWith(t, s, "old", 1, fingerprint("x")); err != nil {
		t.Fatalf("a row without fingerprint: %v", err)
	}
	must[[]store.PartState](t)(prepareWith(t, s, "new", 1, fingerprint("x")))
	if _, err := prepareWith(t, s, "new", 1, nil); err != nil {
		t.Fatalf("a prepare without fingerprint: %v", err)
	}
	if err := connect(t, dsn).QueryRow(ctxT(t),
		`SELECT content_sha256 FROM smpp.message_correlations WHERE message_id = 'new'`).Scan(&stored); err != nil || string(stored) != string(fingerprint("x")) {
		t.Fatalf("stored %x, %v", stored, err)
	}
}

// Messages prepared in one batch each get their own verdict.
func TestPrepareConflictInABatchIsThatMessagesOnly(t *testing.T) {
	s, _ := open(t, store.Options{Linger: 50 * time.Millisecond})
	must[[]store.PartState](t)(prepareWith(t, s, "a", 1, fingerprint("a")))
	must[[]store.PartState](t)(prepareWith(t, s, "b", 1, fingerprint("b")))
	errs := make(chan error, 2)
	go func() { _, err := prepareWith(t, s, "a", 1, fingerprint("a")); errs <- err }()
	go func() { _, err := prepareWith(t, s, "b", 1, fingerprint("not b")); errs <- err }()
	var conflicts, oks int
	for range 2 {
		switch err := <-errs; {
		case err == nil:
			oks++
		case errors.Is(err, store.ErrConflict):
			conflicts++
		default:
			t.Fatal(err)
		}
	}
	if oks != 1 || conflicts != 1 {
		t.Fatalf("%d ok, %d conflicts: want 1 and 1", oks, conflicts)
	}
}
