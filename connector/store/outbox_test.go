package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/store"
)

// outbox takes every event in the outbox (deleting them) and returns them
// as "kind message part status" lines, in the order written.
func outbox(t testing.TB, s *store.Store) []string {
	t.Helper()
	var got []string
	for {
		n, err := s.RelayEvents(ctxT(t), 100, false, func(_ context.Context, evs []store.Event) []int64 {
			ids := make([]int64, len(evs))
			for i, e := range evs {
				got = append(got, fmt.Sprintf("%s %s %d %s", e.Kind, e.MessageID, e.Part, e.Status))
				ids[i] = e.ID
			}
			return ids
		})
		ok(t, err)
		if n < 100 {
			return got
		}
	}
}

func wantEvents(t testing.TB, s *store.Store, want ...string) {
	t.Helper()
	if got := outbox(t, s); !slices.Equal(got, want) {
		t.Fatalf("outbox:\n%q\nwant\n%q", got, want)
	}
}

// Each stored state change has its event in the outbox, written in its
// transaction: outcomes (each transition), receipts applied, held receipts
// when their outcome releases them; nothing for a pending part, a repeated
// answer, a duplicate or a stale receipt.
func TestEveryStateChangeHasItsEventAndNothingElse(t *testing.T) {
	s, _ := open(t, store.Options{})
	prepare(t, s, "mno-a", "m1", 1)
	prepare(t, s, "mno-a", "m2", 1)
	wantEvents(t, s) // prepared: pending, no event

	accept(t, s, "mno-a", "m1", 1, "k1")
	accept(t, s, "mno-a", "m1", 1, "k1") // a repeated answer changes nothing
	receipt(t, s, "mno-a", "k1", dlr.Delivered)
	receipt(t, s, "mno-a", "k1", dlr.Delivered) // duplicate
	receipt(t, s, "mno-a", "k1", dlr.Enroute)   // stale
	wantEvents(t, s, "outcome m1 1 accepted", "receipt m1 1 DELIVERED")

	// A timeout, then the late answer: two transitions, two events.
	_, err := s.RecordOutcome(ctxT(t), store.Outcome{OperatorID: "mno-a", MessageID: "m2", Part: 1, Kind: store.Unknown,
		Detail: "no submit_sm_resp within 10s"})
	ok(t, err)
	if m := receipt(t, s, "mno-a", "k2", dlr.Delivered); m.Disposition != store.Held {
		t.Fatalf("receipt before its response: %v", m.Disposition)
	}
	wantEvents(t, s, "outcome m2 1 unknown") // held: no event yet
	accept(t, s, "mno-a", "m2", 1, "k2")
	wantEvents(t, s, "outcome m2 1 accepted", "receipt m2 1 DELIVERED")
}

// The event carries what the consumers need: the outcome's detail and
// command status, the receipt's raw fields, times, and for a multipart
// message the parts with a receipt so far, as each receipt saw them.
func TestEventsCarryTheirFields(t *testing.T) {
	s, _ := open(t, store.Options{})
	prepare(t, s, "mno-a", "r", 1)
	_, err := s.RecordOutcome(ctxT(t), store.Outcome{OperatorID: "mno-a", MessageID: "r", Part: 1, Kind: store.Rejected,
		CommandStatus: 0x0B, Detail: "ESME_RINVDSTADR", At: time.Now()})
	ok(t, err)
	prepare(t, s, "mno-a", "mp", 3)
	for p := 1; p <= 3; p++ {
		accept(t, s, "mno-a", "mp", p, fmt.Sprint("mp", p))
	}
	receipt(t, s, "mno-a", "mp1", dlr.Delivered)
	receipt(t, s, "mno-a", "mp3", dlr.Undeliverable)
	var got []store.Event
	_, err = s.RelayEvents(ctxT(t), 100, false, func(_ context.Context, evs []store.Event) []int64 {
		got = evs
		return nil // nothing published: all stay
	})
	ok(t, err)
	if len(got) != 6 {
		t.Fatalf("%d events, want 6: %+v", len(got), got)
	}
	if r := got[0]; r.Kind != store.EventOutcome || r.Status != "rejected" || r.CommandStatus != 0x0B || r.Detail != "ESME_RINVDSTADR" || r.At.IsZero() {
		t.Errorf("rejected outcome event: %+v", r)
	}
	if a := got[1]; a.Status != "accepted" || a.SMSCMessageID != "raw-mp1" || a.PartCount != 3 || a.SubmittedAt.IsZero() {
		t.Errorf("accepted outcome event: %+v", a)
	}
	r1, r3 := got[4], got[5]
	if r1.Kind != store.EventReceipt || r1.Part != 1 || r1.PartsReceived != 1 || r1.Stat != "DELIVER" || r1.Err != "000" || r1.DoneAt.IsZero() || r1.SMSCMessageID != "raw-mp1" {
		t.Errorf("first receipt event: %+v", r1)
	}
	if r3.Part != 3 || r3.PartsReceived != 2 || r3.Status != string(dlr.Undeliverable) {
		t.Errorf("second receipt event: %+v", r3)
	}
	// Nothing was reported published: the events are all still there.
	if n := len(outbox(t, s)); n != 6 {
		t.Fatalf("%d events left, want 6", n)
	}
}

// One relay works at a time (two replicas' relays taking alternate
// batches would publish a part's events out of order): while one holds
// events, another's pass takes none. Events not reported published stay,
// in order, for the next pass.
func TestOneRelayAtATimeAndWhatFailedStays(t *testing.T) {
	s, _ := open(t, store.Options{})
	prepareMany(t, s, "mno-a", "m", 10)
	for i := range 10 {
		accept(t, s, "mno-a", fmt.Sprint("m", i), 1, fmt.Sprint("k", i))
	}
	inside, release := make(chan []store.Event), make(chan struct{})
	go func() {
		_, _ = s.RelayEvents(context.Background(), 4, false, func(_ context.Context, evs []store.Event) []int64 {
			inside <- evs
			<-release
			return []int64{evs[0].ID, evs[2].ID} // two published, two failed
		})
		close(inside)
	}()
	first := <-inside
	if len(first) != 4 {
		t.Fatalf("the first relay took %d events, want 4", len(first))
	}
	n, err := s.RelayEvents(ctxT(t), 100, false, func(_ context.Context, evs []store.Event) []int64 {
		t.Errorf("a second relay took %d events while the first works", len(evs))
		return nil
	})
	ok(t, err)
	if n != 0 {
		t.Fatalf("the second relay took %d events", n)
	}
	close(release)
	<-inside
	left := outbox(t, s)
	if len(left) != 8 || left[0] != "outcome m1 1 accepted" || left[1] != "outcome m3 1 accepted" {
		t.Fatalf("left after the first relay published two: %q", left)
	}
}

// A shadow replica's events are marked: a shadow relay takes only those, a
// live relay takes all (and drops the shadow ones: connector/relay).
func TestShadowEventsAreMarked(t *testing.T) {
	live, dsn := open(t, store.Options{})
	shadow, err := store.Open(ctxT(t), dsn, store.Options{Shadow: true})
	ok(t, err)
	t.Cleanup(shadow.Close)
	prepare(t, live, "mno-a", "l", 1)
	prepare(t, live, "mno-a", "s", 1)
	accept(t, live, "mno-a", "l", 1, "kl")
	accept(t, shadow, "mno-a", "s", 1, "ks")
	take := func(st *store.Store, asShadow bool) (got []string) {
		_, err := st.RelayEvents(ctxT(t), 100, asShadow, func(_ context.Context, evs []store.Event) []int64 {
			for _, e := range evs {
				got = append(got, fmt.Sprintf("%s:%v", e.MessageID, e.Shadow))
			}
			return nil
		})
		ok(t, err)
		return got
	}
	if got := take(shadow, true); !slices.Equal(got, []string{"s:true"}) {
		t.Fatalf("a shadow relay took %q", got)
	}
	if got := take(live, false); !slices.Equal(got, []string{"l:false", "s:true"}) {
		t.Fatalf("a live relay took %q", got)
	}
}
