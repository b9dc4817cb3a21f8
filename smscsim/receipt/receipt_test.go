package receipt

import (
	"testing"
	"time"
)

func TestTextVariants(t *testing.T) {
	r := Receipt{
		ID: "12d687", Stat: Delivered, Err: "000", Original: "Hello world, this is longer than twenty",
		Submitted: time.Date(2026, 11, 26, 10, 1, 2, 0, time.UTC), Done: time.Date(2026, 11, 26, 10, 1, 5, 0, time.UTC), Dlvr: 1,
	}
	cases := map[string]string{
		"standard":    "id:12d687 sub:001 dlvrd:001 submit date:2611261001 done date:2611261001 stat:DELIVRD err:000 text:Hello world, this is",
		"seconds":     "id:12d687 sub:001 dlvrd:001 submit date:261126100102 done date:261126100105 stat:DELIVRD err:000 text:Hello world, this is",
		"capitalized": "Id:12d687 Sub:001 Dlvrd:001 Submit date:2611261001 Done date:2611261001 Stat:DELIVRD Err:000 Text:Hello world, this is",
		"no_text":     "id:12d687 sub:001 dlvrd:001 submit date:2611261001 done date:2611261001 stat:DELIVRD err:000",
		"short":       "id:12d687 stat:DELIVRD err:000",
		"bare":        "id:12d687 sub:001 dlvrd:001 submit date:2611261001 done date:2611261001 DELIVRD err:000 text:Hello world, this is",
	}
	for v, want := range cases {
		if got := r.Render(v); got != want {
			t.Errorf("%s:\n got %q\nwant %q", v, got, want)
		}
	}
}

func TestFirst20CountsRunes(t *testing.T) {
	r := Receipt{ID: "1", Stat: Delivered, Original: "ééééééééééééééééééééééé"}
	got := r.Render("short")
	_ = got
	if s := first20(r.Original); len([]rune(s)) != 20 {
		t.Fatalf("%q", s)
	}
}

func TestMessageStateAndNetworkError(t *testing.T) {
	if MessageState(Delivered) != 2 || MessageState(Rejected) != 8 || MessageState("??") != 7 {
		t.Fatal("message_state mapping")
	}
	if b := (Receipt{Err: "258"}).NetworkErrorCode(); b[0] != 3 || b[1] != 1 || b[2] != 2 {
		t.Fatalf("%v", b)
	}
	if Final(Enroute) || !Final(Undeliverable) {
		t.Fatal("final")
	}
	// Intermediate stats: SMPP 5.0's SCHEDULED is 0; Kannel's BUFFRED and
	// ACKED have no state of their own and go as ENROUTE and ACCEPTED.
	for stat, want := range map[string]byte{Scheduled: 0, Enroute: 1, Accepted: 6, Buffered: 1, Acked: 6} {
		if MessageState(stat) != want || Final(stat) || !Intermediate(stat) {
			t.Errorf("%s: state %d final %v", stat, MessageState(stat), Final(stat))
		}
	}
	if len(IntermediateStats()) != 5 || Intermediate(Delivered) {
		t.Fatal("intermediate stats")
	}
}

func BenchmarkRender(b *testing.B) {
	r := Receipt{ID: "1234567", Stat: Delivered, Err: "000", Original: "benchmark text of some length",
		Submitted: time.Now(), Done: time.Now(), Dlvr: 1}
	buf := make([]byte, 0, 160)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = r.Append(buf[:0], "standard")
	}
}
