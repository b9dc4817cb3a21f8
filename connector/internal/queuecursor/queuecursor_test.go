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
	read(t, c, 0, 100, 0, Snapshot{Xmin: 10, Xmax: 20}) // 10..19 may hold rows below 100
	read(t, c, 0, 200, 0, Snapshot{Xmin: 15, Xmax: 25}) // 15 still runs
	read(t, c, 0, 300, 0, Snapshot{Xmin: 20, Xmax: 30}) // all of the first read's have ended
	read(t, c, 100, 310, 0, Snapshot{Xmin: 40, Xmax: 41})
	read(t, c, 300, 400, 0, Snapshot{Xmin: 41, Xmax: 41}) // the second and third passed at once; the highest counts
	read(t, c, 310, 400, 0, Snapshot{Xmin: 41, Xmax: 41})
}

func TestNeverPastARowStillThere(t *testing.T) {
	c, _ := newCursor(t)
	read(t, c, 0, 100, 0, Snapshot{Xmin: 1, Xmax: 2})
	read(t, c, 0, 200, 150, Snapshot{Xmin: 2, Xmax: 3}) // 150 failed to publish: read again
	read(t, c, 100, 300, 0, Snapshot{Xmin: 3, Xmax: 4})
	read(t, c, 200, 300, 0, Snapshot{Xmin: 4, Xmax: 5})
	read(t, c, 300, 350, 320, Snapshot{Xmin: 5, Xmax: 6})
	read(t, c, 300, 400, 0, Snapshot{Xmin: 6, Xmax: 7}) // 319 at most: 320 is still there ...
	read(t, c, 350, 400, 0, Snapshot{Xmin: 7, Xmax: 8}) // ... and the limit wins over 350's mark
}

func TestNeverPastTheLastRowRead(t *testing.T) {
	// A read that hit its limit saw nothing above its last row, however
	// old the marks: a row left by an earlier read may be there.
	clk := &fakeClock{t: time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)}
	c := New(Options{FullEvery: time.Second, Now: clk.now})
	read(t, c, 0, 1000, 0, Snapshot{Xmin: 1, Xmax: 2})
	read(t, c, 0, 1100, 0, Snapshot{Xmin: 2, Xmax: 3})
	clk.advance(time.Second)
	read(t, c, 0, 600, 0, Snapshot{Xmin: 3, Xmax: 4}) // the full read, which stops at 600
	read(t, c, 600, 1200, 0, Snapshot{Xmin: 4, Xmax: 5})
}

func TestAReadFromTheBeginningEveryFullEvery(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)}
	c := New(Options{FullEvery: time.Second, Now: clk.now})
	read(t, c, 0, 100, 0, Snapshot{Xmin: 1, Xmax: 1})
	read(t, c, 0, 200, 0, Snapshot{Xmin: 1, Xmax: 1})
	for i := range 9 {
		clk.advance(100 * time.Millisecond)
		r := c.Begin()
		if r.From == 0 {
			t.Fatalf("read %d starts at the beginning before FullEvery", i)
		}
		r.End(int64(300+100*i), 0, Snapshot{Xmin: 1, Xmax: 1})
	}
	clk.advance(100 * time.Millisecond)
	read(t, c, 0, 1100, 0, Snapshot{Xmin: 1, Xmax: 1})
}

func TestAReadThatSawNothingMovesNothing(t *testing.T) {
	c, _ := newCursor(t)
	read(t, c, 0, 100, 0, Snapshot{Xmin: 1, Xmax: 2})
	read(t, c, 0, 200, 0, Snapshot{Xmin: 2, Xmax: 3})
	read(t, c, 100, 0, 0, Snapshot{Xmin: 9, Xmax: 9}) // empty, or failed
	read(t, c, 100, 250, 0, Snapshot{Xmin: 3, Xmax: 4})
	read(t, c, 200, 250, 0, Snapshot{Xmin: 4, Xmax: 4})
}

func TestAConcurrentReadStartsAtTheBeginningAndMovesNothing(t *testing.T) {
	c, _ := newCursor(t)
	read(t, c, 0, 100, 0, Snapshot{Xmin: 1, Xmax: 2})
	read(t, c, 0, 150, 0, Snapshot{Xmin: 2, Xmax: 3})
	owner := c.Begin()
	if owner.From != 100 {
		t.Fatalf("owner starts above %d, want 100", owner.From)
	}
	other := c.Begin()
	if other.From != 0 {
		t.Fatalf("a concurrent read starts above %d, want 0", other.From)
	}
	other.End(5000, 0, Snapshot{Xmin: 100, Xmax: 100})
	owner.End(300, 0, Snapshot{Xmin: 3, Xmax: 4})
	read(t, c, 150, 310, 0, Snapshot{Xmin: 4, Xmax: 5}) // 5000 was never recorded
	read(t, c, 300, 310, 0, Snapshot{Xmin: 5, Xmax: 5})
}

// TestALateCommitIsReadBeforeAnyFullRead plays the race the horizons exist
// for: rows are committed out of id order by transactions that stay open
// across reads, for however long; each is read, once, by the reads that
// follow its commit, with no full read at all (FullEvery is an hour).
func TestALateCommitIsReadBeforeAnyFullRead(t *testing.T) {
	c, clk := newCursor(t)
	type txn struct {
		xid  int64
		rows []int64
	}
	var (
		nextXid  int64 = 1
		running  []*txn
		queue    = map[int64]bool{} // committed rows still in the table
		got      []int64
		position []int64
	)
	begin := func(rows ...int64) *txn {
		tx := &txn{xid: nextXid, rows: rows}
		nextXid++
		running = append(running, tx)
		return tx
	}
	commit := func(tx *txn) {
		for _, id := range tx.rows {
			queue[id] = true
		}
		running = slices.DeleteFunc(running, func(r *txn) bool { return r == tx })
	}
	snapshot := func() Snapshot {
		s := Snapshot{Xmin: nextXid, Xmax: nextXid}
		for _, tx := range running {
			s.Xmin = min(s.Xmin, tx.xid)
		}
		return s
	}
	// pass reads up to 3 committed rows above From, deletes them, and
	// reports; rows and transaction ids only grow.
	pass := func() {
		r := c.Begin()
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
		r.End(maxRead, 0, snapshot())
		position = append(position, c.Position())
		clk.advance(10 * time.Millisecond)
	}
	commit(begin(1, 2, 3))
	pass()
	slow := begin(4) // open across many reads
	commit(begin(5, 6))
	pass()
	for i := 7; i < 30; i += 2 {
		commit(begin(int64(i), int64(i+1)))
		pass()
	}
	if c.Position() >= 4 {
		t.Fatalf("the cursor passed 4 while its transaction runs (at %d)", c.Position())
	}
	commit(slow)
	slower := begin(31)
	commit(begin(32, 33))
	pass()
	pass()
	commit(slower)
	for range 5 {
		pass()
	}
	if c.Position() < 30 {
		t.Fatalf("the cursor stays at %d after every transaction ended (positions %v)", c.Position(), position)
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
