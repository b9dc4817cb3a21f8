package queuecursor

import (
	"slices"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (f *fakeClock) now() time.Time          { return f.t }
func (f *fakeClock) advance(d time.Duration) { f.t = f.t.Add(d) }

// newCursor returns a cursor on a fake clock, its first read (a full one)
// done.
func newCursor(t *testing.T) (*Cursor, *fakeClock) {
	clk := &fakeClock{t: time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)}
	c := New(Options{FullEvery: time.Hour, Now: clk.now})
	read(t, c, 0, 0, 0, Snapshot{})
	return c, clk
}

// read begins a read, checks where it starts, and ends it.
func read(t *testing.T, c *Cursor, wantFrom, maxRead, lowestLeft int64, snap Snapshot) {
	t.Helper()
	r := c.Begin()
	if r.From != wantFrom {
		t.Fatalf("read starts above %d, want %d", r.From, wantFrom)
	}
	r.End(maxRead, lowestLeft, snap)
}

func TestMovesPastAReadOnceItsTransactionsHaveEnded(t *testing.T) {
	c, _ := newCursor(t)
	read(t, c, 0, 100, 0, Snapshot{Xmin: 10, Xid: 19}) // 10..19 may hold rows below 100
	read(t, c, 0, 200, 0, Snapshot{Xmin: 15, Xid: 24}) // 15 still runs
	read(t, c, 0, 300, 0, Snapshot{Xmin: 20, Xid: 29}) // all of the first read's have ended
	read(t, c, 100, 310, 0, Snapshot{Xmin: 40, Xid: 40})
	read(t, c, 300, 400, 0, Snapshot{Xmin: 41, Xid: 41}) // the second and third passed at once; the highest counts
	read(t, c, 310, 400, 0, Snapshot{Xmin: 41, Xid: 41})
}

func TestNeverPastARowStillThere(t *testing.T) {
	c, _ := newCursor(t)
	read(t, c, 0, 100, 0, Snapshot{Xmin: 1, Xid: 1})
	read(t, c, 0, 200, 150, Snapshot{Xmin: 2, Xid: 2}) // 150 failed to publish: read again
	read(t, c, 100, 300, 0, Snapshot{Xmin: 3, Xid: 3})
	read(t, c, 200, 300, 0, Snapshot{Xmin: 4, Xid: 4})
	read(t, c, 300, 350, 320, Snapshot{Xmin: 5, Xid: 5})
	read(t, c, 300, 400, 0, Snapshot{Xmin: 6, Xid: 6}) // 319 at most: 320 is still there ...
	read(t, c, 350, 400, 0, Snapshot{Xmin: 7, Xid: 7}) // ... and the limit wins over 350's mark
}

func TestNeverPastTheLastRowRead(t *testing.T) {
	// A read that hit its limit saw nothing above its last row, however
	// old the marks: a row left by an earlier read may be there.
	clk := &fakeClock{t: time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)}
	c := New(Options{FullEvery: time.Second, Now: clk.now})
	read(t, c, 0, 1000, 0, Snapshot{Xmin: 1, Xid: 1})
	read(t, c, 0, 1100, 0, Snapshot{Xmin: 2, Xid: 2})
	clk.advance(time.Second)
	read(t, c, 0, 600, 0, Snapshot{Xmin: 3, Xid: 3}) // the full read, which stops at 600
	read(t, c, 600, 1200, 0, Snapshot{Xmin: 4, Xid: 4})
}

func TestAReadFromTheBeginningEveryFullEvery(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)}
	c := New(Options{FullEvery: time.Second, Now: clk.now})
	read(t, c, 0, 100, 0, Snapshot{Xmin: 1, Xid: 1})
	read(t, c, 0, 200, 0, Snapshot{Xmin: 2, Xid: 2})
	for i := range 9 {
		clk.advance(100 * time.Millisecond)
		r := c.Begin()
		if r.From == 0 {
			t.Fatalf("read %d starts at the beginning before FullEvery", i)
		}
		r.End(int64(300+100*i), 0, Snapshot{Xmin: int64(3 + i), Xid: int64(3 + i)})
	}
	clk.advance(100 * time.Millisecond)
	read(t, c, 0, 1100, 0, Snapshot{Xmin: 12, Xid: 12})
}

func TestAReadThatSawNothingMovesNothing(t *testing.T) {
	c, _ := newCursor(t)
	read(t, c, 0, 100, 0, Snapshot{Xmin: 1, Xid: 1})
	read(t, c, 0, 200, 0, Snapshot{Xmin: 2, Xid: 2})
	read(t, c, 100, 0, 0, Snapshot{Xmin: 9, Xid: 9}) // empty, or failed
	read(t, c, 100, 250, 0, Snapshot{Xmin: 3, Xid: 3})
	read(t, c, 200, 250, 0, Snapshot{Xmin: 4, Xid: 4})
}

func TestAConcurrentReadStartsAtTheBeginningAndMovesNothing(t *testing.T) {
	c, _ := newCursor(t)
	read(t, c, 0, 100, 0, Snapshot{Xmin: 1, Xid: 1})
	read(t, c, 0, 150, 0, Snapshot{Xmin: 2, Xid: 2})
	owner := c.Begin()
	if owner.From != 100 {
		t.Fatalf("owner starts above %d, want 100", owner.From)
	}
	other := c.Begin()
	if other.From != 0 {
		t.Fatalf("a concurrent read starts above %d, want 0", other.From)
	}
	other.End(5000, 0, Snapshot{Xmin: 100, Xid: 100})
	owner.End(300, 0, Snapshot{Xmin: 3, Xid: 3})
	read(t, c, 150, 310, 0, Snapshot{Xmin: 4, Xid: 4}) // 5000 was never recorded
	read(t, c, 300, 310, 0, Snapshot{Xmin: 5, Xid: 5})
}

// TestALateCommitIsReadBeforeAnyFullRead plays the race the transaction
// ids are for, modelled as PostgreSQL has them: rows are committed out of
// id order by transactions that stay open across reads, a transaction that
// took its id later may hold the lower row, and a snapshot's xmin is the
// oldest running id or, if none runs, one past the last completed. Each
// row is read, once, by the reads that follow its commit, with no full
// read at all (FullEvery is an hour).
func TestALateCommitIsReadBeforeAnyFullRead(t *testing.T) {
	c, clk := newCursor(t)
	var (
		nextXid, lastDone int64 = 1, 0
		running                 = map[int64]bool{}
		queue                   = map[int64]bool{} // committed rows still in the table
		pending                 = map[int64][]int64{}
		got               []int64
	)
	begin := func() int64 {
		x := nextXid
		nextXid++
		running[x] = true
		return x
	}
	insert := func(x int64, rows ...int64) { pending[x] = append(pending[x], rows...) }
	commit := func(x int64) {
		for _, id := range pending[x] {
			queue[id] = true
		}
		delete(running, x)
		lastDone = max(lastDone, x)
	}
	xmin := func() int64 {
		m := lastDone + 1
		for x := range running {
			m = min(m, x)
		}
		return m
	}
	// pass reads up to 3 committed rows above From and deletes them; the
	// read takes a transaction id after its snapshot, and commits.
	pass := func() {
		r := c.Begin()
		snap := Snapshot{Xmin: xmin()}
		var maxRead int64
		var n int
		for id := r.From + 1; id <= 100 && n < 3; id++ {
			if queue[id] {
				got = append(got, id)
				maxRead = id
				delete(queue, id)
				n++
			}
		}
		own := begin()
		snap.Xid = own
		commit(own)
		r.End(maxRead, 0, snap)
		clk.advance(10 * time.Millisecond)
	}
	first := begin()
	insert(first, 1, 2, 3)
	commit(first)
	pass()
	// u takes its id first, t second; t inserts row 4 and stays open,
	// u inserts 5 and 6 and commits.
	u, tx := begin(), begin()
	insert(tx, 4)
	insert(u, 5, 6)
	commit(u)
	pass()
	for i := int64(7); i < 30; i += 2 {
		w := begin()
		insert(w, i, i+1)
		commit(w)
		pass()
		if c.Position() >= 4 {
			t.Fatalf("the cursor passed 4 while its transaction runs (at %d)", c.Position())
		}
	}
	commit(tx)
	slow := begin()
	insert(slow, 31)
	w := begin()
	insert(w, 32, 33)
	commit(w)
	pass()
	pass()
	commit(slow)
	for range 5 {
		pass()
	}
	if c.Position() < 30 {
		t.Fatalf("the cursor stays at %d after every transaction ended", c.Position())
	}
	want := make([]int64, 0, 33)
	for id := int64(1); id <= 33; id++ {
		want = append(want, id)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("read %v, want 1..33 once each", got)
	}
}

// TestMarksStayFewWhileAnOldTransactionRuns: reads pile up marks while
// transaction 1 holds xmin back; beyond maxMarks they are merged into the
// later one, whose id a merged mark keeps.
func TestMarksStayFewWhileAnOldTransactionRuns(t *testing.T) {
	c, _ := newCursor(t)
	for i := int64(1); i <= 1000; i++ {
		read(t, c, 0, i*10, 0, Snapshot{Xmin: 1, Xid: i + 1})
	}
	if len(c.marks) > maxMarks {
		t.Fatalf("%d marks kept, want at most %d", len(c.marks), maxMarks)
	}
	// Transactions 1 to 4 end: the reads with ids 2 to 4 could pass alone,
	// but they were merged into later ones, whose transactions may run.
	read(t, c, 0, 10_010, 0, Snapshot{Xmin: 5, Xid: 1002})
	read(t, c, 0, 10_020, 0, Snapshot{Xmin: 5, Xid: 1003})
	// Every one ends.
	read(t, c, 0, 10_030, 0, Snapshot{Xmin: 1004, Xid: 1004})
	read(t, c, 10_020, 10_040, 0, Snapshot{Xmin: 1005, Xid: 1005})
}

func TestExtent(t *testing.T) {
	left := map[int64]bool{7: true, 9: true}
	still := func(id int64) bool { return left[id] }
	for _, tc := range []struct {
		ids          []int64
		maxRead, low int64
	}{
		{nil, 0, 0},
		{[]int64{3, 5}, 5, 0},
		{[]int64{3, 7, 8, 9}, 9, 7},
	} {
		if m, l := Extent(tc.ids, still); m != tc.maxRead || l != tc.low {
			t.Errorf("Extent(%v) = %d, %d; want %d, %d", tc.ids, m, l, tc.maxRead, tc.low)
		}
	}
}
