package store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/store"
	"github.com/smpp-connector/smpp-connector/internal/testutil"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
)

var env *testenv.TestEnv

func TestMain(m *testing.M) {
	os.Exit(testenv.RunWithServices(m, testenv.Services{Postgres: true}, &env))
}

// open returns a store on a fresh migrated database, and the database's DSN.
func open(t testing.TB, opts store.Options) (*store.Store, string) {
	t.Helper()
	dsn := env.FreshDatabase(t, true)
	s, err := store.Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, dsn
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// connect opens a separate connection: what it reads was committed.
func connect(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func prepare(t testing.TB, s *store.Store, op, msg string, count int) []store.PartState {
	t.Helper()
	parts := make([]store.PartRef, count)
	for i := range parts {
		parts[i].Number = i + 1
	}
	return must[[]store.PartState](t)(s.PrepareParts(ctxT(t), store.MessageRef{OperatorID: op, MessageID: msg, PartCount: count}, parts))
}

// prepareMany prepares single-part messages prefix0..prefix(n-1) concurrently.
func prepareMany(t testing.TB, s *store.Store, op, prefix string, n int) {
	t.Helper()
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := s.PrepareParts(context.Background(), store.MessageRef{OperatorID: op, MessageID: fmt.Sprint(prefix, i), PartCount: 1},
				[]store.PartRef{{Number: 1}})
			errs <- err
		}()
	}
	for range n {
		ok(t, <-errs)
	}
}

func accept(t testing.TB, s *store.Store, op, msg string, part int, key string) store.OutcomeResult {
	t.Helper()
	return must[store.OutcomeResult](t)(s.RecordOutcome(ctxT(t), store.Outcome{
		OperatorID: op, MessageID: msg, Part: part, Kind: store.Accepted,
		SMSCMessageID: "raw-" + key, SMSCKey: key, SequenceNumber: uint32(part),
	}))
}

func receipt(t testing.TB, s *store.Store, op, key string, status dlr.Status) store.Matched {
	t.Helper()
	return must[store.Matched](t)(s.MatchReceipt(ctxT(t), store.Receipt{
		OperatorID: op, SMSCKey: key, RawID: "raw-" + key, Status: status, Stat: string(status)[:min(7, len(status))],
		Err: "000", Done: time.Now().Truncate(time.Minute), Raw: "id:raw-" + key + " stat:" + string(status),
	}))
}

func TestPreparePartsIsIdempotentAndRedeliveryFindsAcceptedParts(t *testing.T) {
	s, dsn := open(t, store.Options{})
	first := prepare(t, s, "mno-a", "m1", 3)
	for i, st := range first {
		if !st.Created || st.Status != store.Pending || st.Part != i+1 || st.PartCount != 3 || st.SMSCKey != "" {
			t.Fatalf("part %d: %+v", i+1, st)
		}
	}
	accept(t, s, "mno-a", "m1", 1, "K1")
	must[store.OutcomeResult](t)(s.RecordOutcome(ctxT(t), store.Outcome{
		OperatorID: "mno-a", MessageID: "m1", Part: 2, Kind: store.Rejected, CommandStatus: 0x45,
	}))

	// The command is redelivered: the parts are found, not added.
	again := prepare(t, s, "mno-a", "m1", 3)
	want := []struct {
		status store.SubmitStatus
		key    string
		cs     uint32
	}{{store.Accepted, "K1", 0}, {store.Rejected, "", 0x45}, {store.Pending, "", 0}}
	for i, st := range again {
		w := want[i]
		if st.Created || st.Status != w.status || st.SMSCKey != w.key || st.CommandStatus != w.cs {
			t.Errorf("part %d after redelivery: %+v, want %+v", i+1, st, w)
		}
	}
	if again[0].SMSCMessageID != "raw-K1" || again[0].SequenceNumber != 1 || again[0].RespAt.IsZero() {
		t.Errorf("accepted part: %+v", again[0])
	}
	var n int
	ok(t, connect(t, dsn).QueryRow(ctxT(t), `SELECT count(*) FROM smpp.message_correlations`).Scan(&n))
	if n != 3 {
		t.Fatalf("%d rows, want 3", n)
	}

	// A subset of parts, and a mismatching part count.
	sub := must[[]store.PartState](t)(s.PrepareParts(ctxT(t), store.MessageRef{OperatorID: "mno-a", MessageID: "m1", PartCount: 3},
		[]store.PartRef{{Number: 3}, {Number: 1}}))
	if sub[0].Part != 3 || sub[1].Part != 1 || sub[1].Status != store.Accepted {
		t.Errorf("subset: %+v", sub)
	}
	_, err := s.PrepareParts(ctxT(t), store.MessageRef{OperatorID: "mno-a", MessageID: "m1", PartCount: 2},
		[]store.PartRef{{Number: 1}})
	if !errors.Is(err, store.ErrMismatch) {
		t.Errorf("part count changed: err %v, want ErrMismatch", err)
	}
}

func TestPreparePartsConcurrentRedeliveries(t *testing.T) {
	s, _ := open(t, store.Options{})
	// Two replicas prepare the same message at once: both get every part,
	// exactly one of them created each.
	for m := range 20 {
		msg := fmt.Sprintf("m%d", m)
		var wg sync.WaitGroup
		res := make([][]store.PartState, 4)
		for r := range res {
			wg.Go(func() { res[r] = prepare(t, s, "mno-a", msg, 3) })
		}
		wg.Wait()
		for part := range 3 {
			created := 0
			for _, r := range res {
				if r[part].Part != part+1 {
					t.Fatalf("%s: %+v", msg, r)
				}
				if r[part].Created {
					created++
				}
			}
			if created != 1 {
				t.Fatalf("%s part %d created %d times", msg, part+1, created)
			}
		}
	}
}

func TestInvalidRequestsAreRefusedBeforeTheDatabase(t *testing.T) {
	s, _ := open(t, store.Options{})
	ctx := ctxT(t)
	for name, err := range map[string]error{
		"part 0":          second(s.PrepareParts(ctx, store.MessageRef{OperatorID: "a", MessageID: "m", PartCount: 1}, []store.PartRef{{Number: 0}})),
		"part > count":    second(s.PrepareParts(ctx, store.MessageRef{OperatorID: "a", MessageID: "m", PartCount: 1}, []store.PartRef{{Number: 2}})),
		"no operator":     second(s.PrepareParts(ctx, store.MessageRef{MessageID: "m", PartCount: 1}, []store.PartRef{{Number: 1}})),
		"twice":           second(s.PrepareParts(ctx, store.MessageRef{OperatorID: "a", MessageID: "m", PartCount: 2}, []store.PartRef{{Number: 1}, {Number: 1}})),
		"no key":          second(s.RecordOutcome(ctx, store.Outcome{OperatorID: "a", MessageID: "m", Part: 1, Kind: store.Accepted})),
		"bad kind":        second(s.RecordOutcome(ctx, store.Outcome{OperatorID: "a", MessageID: "m", Part: 1, Kind: "sent"})),
		"bad status":      second(s.MatchReceipt(ctx, store.Receipt{OperatorID: "a", SMSCKey: "k", Status: "DELIVRD"})),
		"NUL in key":      second(s.MatchReceipt(ctx, store.Receipt{OperatorID: "a", SMSCKey: "k\x00", Status: "DELIVERED"})),
		"bad UTF-8 in id": second(s.RecordOutcome(ctx, store.Outcome{OperatorID: "a", MessageID: "m\xff", Part: 1, Kind: store.Unknown})),
	} {
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: err %v, want ErrInvalid", name, err)
		}
	}
	if _, err := s.RecordOutcome(ctx, store.Outcome{OperatorID: "a", MessageID: "never", Part: 1, Kind: store.Unknown}); !errors.Is(err, store.ErrNotPrepared) {
		t.Errorf("outcome of an unprepared part: err %v, want ErrNotPrepared", err)
	}
	prepare(t, s, "a", "m2", 1)
	if _, err := s.RecordOutcome(ctx, store.Outcome{OperatorID: "b", MessageID: "m2", Part: 1, Kind: store.Unknown}); !errors.Is(err, store.ErrNotPrepared) {
		t.Errorf("outcome for another operator: err %v, want ErrNotPrepared", err)
	}
}

func ok(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A request that fails its batch (isolated, written alone, refused) fails
// alone, and writes no event.
func TestARequestThatFailsItsBatchFailsAlone(t *testing.T) {
	s, _ := open(t, store.Options{Linger: 20 * time.Millisecond})
	prepareMany(t, s, "mno-a", "m", 20)
	prepare(t, s, "mno-a", "bad", 1)
	errs := make(chan error, 21)
	for i := range 20 {
		go func() {
			_, err := s.RecordOutcome(context.Background(), store.Outcome{OperatorID: "mno-a", MessageID: fmt.Sprint("m", i),
				Part: 1, Kind: store.Accepted, SMSCKey: fmt.Sprint(i)})
			errs <- err
		}()
	}
	// An SMSC key longer than a btree entry may be (incompressible):
	// PostgreSQL refuses the row.
	long := make([]byte, 8000)
	_, _ = rand.Read(long)
	_, bad := s.RecordOutcomeUnchecked(context.Background(), store.Outcome{OperatorID: "mno-a", MessageID: "bad",
		Part: 1, Kind: store.Accepted, SMSCKey: hex.EncodeToString(long), SMSCMessageID: "x", At: time.Now()})
	if bad == nil {
		t.Fatal("the bad outcome was stored")
	}
	for range 20 {
		if err := <-errs; err != nil {
			t.Errorf("a good outcome failed with the bad one: %v", err)
		}
	}
	if s.Stats().Isolated == 0 {
		t.Error("the batch was not isolated (were they in one batch?)")
	}
	if _, err := s.RecordOutcome(context.Background(), store.Outcome{OperatorID: "mno-a", MessageID: "m0", Part: 1,
		Kind: store.Accepted, SMSCKey: strings.Repeat("k", 300)}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("long key: %v, want ErrInvalid", err)
	}
	// The failed request left no event; the others of its batch have theirs.
	if got := outbox(t, s); len(got) != 20 || slices.Contains(got, "outcome bad 1 accepted") {
		t.Errorf("outbox: %q", got)
	}
}

func second[T any](_ T, err error) error { return err }

func TestOutcomesAreBatchedAndDurable(t *testing.T) {
	s, dsn := open(t, store.Options{Linger: 5 * time.Millisecond})
	const n = 600
	prepareMany(t, s, "mno-a", "m", n)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		fail []error
	)
	check := connect(t, dsn)
	before := s.Stats()
	for i := range n {
		wg.Go(func() {
			msg := fmt.Sprintf("m%d", i)
			o := store.Outcome{OperatorID: "mno-a", MessageID: msg, Part: 1, Kind: store.Accepted,
				SMSCMessageID: fmt.Sprintf("%08X", i), SMSCKey: fmt.Sprint(i)}
			switch i % 3 {
			case 1:
				o = store.Outcome{OperatorID: "mno-a", MessageID: msg, Part: 1, Kind: store.Rejected, CommandStatus: 0x58}
			case 2:
				o = store.Outcome{OperatorID: "mno-a", MessageID: msg, Part: 1, Kind: store.Unknown}
			}
			res, err := s.RecordOutcome(context.Background(), o)
			if err == nil && (!res.Applied || res.State.Status != o.Kind) {
				err = fmt.Errorf("%s: %+v", msg, res)
			}
			if err == nil {
				// Durable: another connection sees it as soon as the call returns.
				var status string
				err = check2(dsn, msg, &status)
				if err == nil && status != string(o.Kind) {
					err = fmt.Errorf("%s: stored %s, want %s", msg, status, o.Kind)
				}
			}
			if err != nil {
				mu.Lock()
				fail = append(fail, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(fail) > 0 {
		t.Fatalf("%d failures, first: %v", len(fail), fail[0])
	}
	after := s.Stats()
	requests, batches := after.Requests-before.Requests, after.Batches-before.Batches
	if requests != n {
		t.Errorf("requests %d, want %d", requests, n)
	}
	if batches >= n/4 {
		t.Errorf("%d batches for %d concurrent outcomes: not batched", batches, n)
	}
	t.Logf("%d outcomes in %d batches", n, batches)
	var accepted, keys int
	ok(t, check.QueryRow(ctxT(t), `SELECT count(*) FILTER (WHERE submit_status = 'accepted'),
		count(smsc_key) FROM smpp.message_correlations`).Scan(&accepted, &keys))
	if accepted != n/3 || keys != n/3 {
		t.Errorf("accepted %d, keys %d, want %d", accepted, keys, n/3)
	}
}

var checkPool sync.Map // dsn -> *pgx.Conn guarded by its own mutex

func check2(dsn, msg string, status *string) error {
	type guarded struct {
		sync.Mutex
		c *pgx.Conn
	}
	v, _ := checkPool.LoadOrStore(dsn, &guarded{})
	g := v.(*guarded)
	g.Lock()
	defer g.Unlock()
	if g.c == nil {
		c, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			return err
		}
		g.c = c
	}
	return g.c.QueryRow(context.Background(),
		`SELECT submit_status FROM smpp.message_correlations WHERE message_id = $1`, msg).Scan(status)
}

func TestMultipartReceiptCountsAreSerialised(t *testing.T) {
	// Receipts for every part of a message arrive at once, at two replicas:
	// exactly one of them sees the last part.
	s1, dsn := open(t, store.Options{})
	s2 := must[*store.Store](t)(store.Open(ctxT(t), dsn, store.Options{}))
	t.Cleanup(s2.Close)
	const msgs, parts = 30, 4
	for m := range msgs {
		msg := fmt.Sprintf("m%d", m)
		prepare(t, s1, "mno-a", msg, parts)
		for p := 1; p <= parts; p++ {
			accept(t, s1, "mno-a", msg, p, fmt.Sprintf("%s-%d", msg, p))
		}
	}
	counts := make([][]int, msgs)
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	for m := range msgs {
		for p := 1; p <= parts; p++ {
			s := s1
			if p%2 == 0 {
				s = s2
			}
			wg.Go(func() {
				r := receipt(t, s, "mno-a", fmt.Sprintf("m%d-%d", m, p), dlr.Delivered)
				mu.Lock()
				counts[m] = append(counts[m], r.PartsFinal)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	for m, c := range counts {
		slices.Sort(c)
		if !slices.Equal(c, []int{1, 2, 3, 4}) {
			t.Errorf("m%d: counts seen %v, want each of 1..4 once", m, c)
		}
	}
}

func TestReusedSMSCIDMovesToTheNewerPart(t *testing.T) {
	s, dsn := open(t, store.Options{})
	prepare(t, s, "mno-a", "old", 1)
	prepare(t, s, "mno-a", "new", 1)
	accept(t, s, "mno-a", "old", 1, "K")
	receipt(t, s, "mno-a", "K", dlr.Delivered)
	if r := accept(t, s, "mno-a", "new", 1, "K"); !r.Applied || r.State.SMSCKey != "K" {
		t.Fatalf("newer part: %+v", r)
	}
	if m := receipt(t, s, "mno-a", "K", dlr.Delivered); m.MessageID != "new" || m.Disposition != store.Applied {
		t.Fatalf("receipt after reuse: %+v", m)
	}
	var key *string
	var state string
	ok(t, connect(t, dsn).QueryRow(ctxT(t), `SELECT smsc_key, receipt_state FROM smpp.message_correlations WHERE message_id = 'old'`).Scan(&key, &state))
	if key != nil || state != "DELIVERED" {
		t.Errorf("old part: key %v, state %s", key, state)
	}
	if st := s.Stats(); st.Displaced != 1 || st.Reuses != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestCloseWritesWhatWasAccepted(t *testing.T) {
	dsn := env.FreshDatabase(t, true)
	// The queue holds 4*batch = n requests: a caller never waits for room
	// in it (while holding the lock Close takes).
	const n, batch = 200, 50
	s := must[*store.Store](t)(store.Open(ctxT(t), dsn, store.Options{Linger: time.Millisecond, BatchSize: batch, Flushers: 1}))
	prepareMany(t, s, "mno-a", "m", n)
	// Barrier: the writer's first transaction waits for these row locks, so
	// nothing accepted can be written before Close, whatever the timing.
	c := connect(t, dsn)
	tx := must[pgx.Tx](t)(c.Begin(ctxT(t)))
	defer tx.Rollback(context.Background())
	ok(t, second(tx.Exec(ctxT(t), `SELECT 1 FROM smpp.message_correlations FOR UPDATE`)))
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		stored []string
	)
	for i := range n {
		wg.Go(func() {
			msg := fmt.Sprintf("m%d", i)
			_, err := s.RecordOutcome(context.Background(), store.Outcome{OperatorID: "mno-a", MessageID: msg, Part: 1, Kind: store.Unknown})
			switch {
			case err == nil:
				mu.Lock()
				stored = append(stored, msg)
				mu.Unlock()
			case !errors.Is(err, store.ErrClosed):
				t.Error(err)
			}
		})
	}
	// Wait until requests are accepted but not written: with the one
	// flusher and the collector each holding at most one batch, at least
	// n-2*batch wait in the queue.
	var queued int
	testutil.WaitFor(t, 10*time.Second, time.Millisecond, func() error {
		if queued = s.Queued(); queued < n-2*batch {
			return fmt.Errorf("%d requests queued", queued)
		}
		return nil
	})
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	// Close has refused new requests; only now may the writer go on.
	testutil.WaitFor(t, 10*time.Second, time.Millisecond, func() error {
		if !s.Closing() {
			return errors.New("not closed yet")
		}
		return nil
	})
	ok(t, tx.Rollback(ctxT(t)))
	answered := make(chan struct{})
	go func() { wg.Wait(); <-closed; close(answered) }()
	select {
	case <-answered:
	case <-time.After(20 * time.Second):
		t.Fatal("Close or its callers still wait after 20s: accepted requests were not answered")
	}
	// Every request in the queue, and the batches ahead of them, were
	// accepted before Close.
	if len(stored) <= queued {
		t.Fatalf("%d outcomes accepted, but %d were queued at Close (plus the batch being written)", len(stored), queued)
	}
	rows, _ := connect(t, dsn).Query(ctxT(t), `SELECT message_id FROM smpp.message_correlations WHERE submit_status = 'unknown'`)
	got := must[[]string](t)(pgx.CollectRows(rows, pgx.RowTo[string]))
	slices.Sort(got)
	slices.Sort(stored)
	if !slices.Equal(got, stored) {
		t.Fatalf("stored %d, callers told %d", len(got), len(stored))
	}
	if _, err := s.MatchReceipt(context.Background(), store.Receipt{OperatorID: "a", SMSCKey: "k", Status: "DELIVERED"}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	t.Logf("%d of %d outcomes accepted before Close (%d queued), all written", len(stored), n, queued)
}
