package queuecursor

import (
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (f *fakeClock) now() time.Time          { return f.t }
func (f *fakeClock) advance(d time.Duration) { f.t = f.t.Add(d) }

func newCursor() (*Cursor, *fakeClock) {
	clk := &fakeClock{t: time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)}
	return New(Options{Grace: 100 * time.Millisecond, FullEvery: time.Second, Now: clk.now}), clk
}

// read begins a read, checks where it starts, and ends it.
func read(t *testing.T, c *Cursor, wantFrom, maxRead, lowestLeft int64) {
	t.Helper()
	r := c.Begin()
	if r.From != wantFrom {
		t.Fatalf("read starts above %d, want %d", r.From, wantFrom)
	}
	r.End(maxRead, lowestLeft)
}

func TestAdvancesOnlyPastWhatWasSeenAGraceAgo(t *testing.T) {
	c, clk := newCursor()
	read(t, c, 0, 100, 0) // the first read is a full one
	clk.advance(50 * time.Millisecond)
	read(t, c, 0, 200, 0) // 100 was seen 50 ms ago: not yet
	clk.advance(60 * time.Millisecond)
	read(t, c, 100, 300, 0) // 100 was seen 110 ms before this read began; 200 60 ms
	clk.advance(10 * time.Millisecond)
	read(t, c, 100, 310, 0)
	clk.advance(100 * time.Millisecond)
	read(t, c, 310, 400, 0) // every mark aged; the highest counts
}

func TestNeverPastARowStillThere(t *testing.T) {
	c, clk := newCursor()
	read(t, c, 0, 100, 0)
	clk.advance(200 * time.Millisecond)
	read(t, c, 100, 200, 150) // 150 failed to publish: read again
	clk.advance(200 * time.Millisecond)
	read(t, c, 149, 300, 0)
	clk.advance(200 * time.Millisecond)
	read(t, c, 300, 300, 0)
}

func TestNeverPastTheLastRowRead(t *testing.T) {
	// A read that hit its limit saw nothing above its last row, however
	// old the marks: a row left by an earlier read may be there.
	c, clk := newCursor()
	read(t, c, 0, 1000, 0)
	clk.advance(200 * time.Millisecond)
	r := c.Begin() // a read from 1000 ...
	r.End(0, 0)
	clk.advance(800 * time.Millisecond)
	read(t, c, 0, 600, 0) // ... and the full read, which stops at 600
	clk.advance(10 * time.Millisecond)
	read(t, c, 600, 1100, 0) // 1000's mark is old, this read's limit is not
}

func TestAReadFromTheBeginningEveryFullEvery(t *testing.T) {
	c, clk := newCursor()
	read(t, c, 0, 100, 0)
	for i := 0; i < 9; i++ {
		clk.advance(100 * time.Millisecond)
		r := c.Begin()
		if r.From == 0 {
			t.Fatalf("read %d starts at the beginning before FullEvery", i)
		}
		r.End(int64(200+100*i), 0)
	}
	clk.advance(100 * time.Millisecond)
	read(t, c, 0, 1100, 0)
}

func TestAReadThatSawNothingMovesNothing(t *testing.T) {
	c, clk := newCursor()
	read(t, c, 0, 100, 0)
	clk.advance(200 * time.Millisecond)
	read(t, c, 100, 0, 0) // empty, or failed
	clk.advance(10 * time.Millisecond)
	read(t, c, 100, 250, 0)
}

func TestAConcurrentReadStartsAtTheBeginningAndMovesNothing(t *testing.T) {
	c, clk := newCursor()
	read(t, c, 0, 100, 0)
	clk.advance(200 * time.Millisecond)
	owner := c.Begin()
	if owner.From != 100 {
		t.Fatalf("owner starts above %d, want 100", owner.From)
	}
	other := c.Begin()
	if other.From != 0 {
		t.Fatalf("a concurrent read starts above %d, want 0", other.From)
	}
	other.End(5000, 0)
	owner.End(300, 0)
	clk.advance(200 * time.Millisecond)
	read(t, c, 300, 310, 0) // 5000 was never recorded
}

// TestALateCommitIsFound plays the race the grace exists for: a row whose
// id is below rows already read commits late; within the grace the next
// read still starts below it, and beyond the grace the full read finds it.
func TestALateCommitIsFound(t *testing.T) {
	c, clk := newCursor()
	queue := map[int64]bool{} // committed rows still in the table
	commit := func(ids ...int64) {
		for _, id := range ids {
			queue[id] = true
		}
	}
	// pass reads up to 3 rows above From, deletes them, and reports.
	pass := func() (from int64, got []int64) {
		r := c.Begin()
		var maxRead int64
		for id := r.From + 1; id <= 100 && len(got) < 3; id++ {
			if queue[id] {
				got = append(got, id)
				maxRead = id
				delete(queue, id)
			}
		}
		r.End(maxRead, 0)
		return r.From, got
	}
	commit(1, 2, 3)
	pass()
	commit(5, 6) // 4 is still in its transaction
	clk.advance(50 * time.Millisecond)
	if _, got := pass(); len(got) != 2 || got[0] != 5 {
		t.Fatalf("read %v, want 5 6", got)
	}
	clk.advance(50 * time.Millisecond)
	commit(4) // 50 ms after 6 was read: within the grace
	clk.advance(10 * time.Millisecond)
	if from, got := pass(); len(got) != 1 || got[0] != 4 {
		t.Fatalf("read above %d: %v, want 4", from, got)
	}
	commit(7, 9) // 8 stays open beyond the grace
	clk.advance(200 * time.Millisecond)
	pass()
	clk.advance(200 * time.Millisecond)
	commit(10)
	pass()
	commit(8)
	clk.advance(200 * time.Millisecond)
	if from, got := pass(); len(got) != 0 || from == 0 {
		t.Fatalf("read above %d: %v; want a cursor past 8, before the full read", from, got)
	}
	clk.advance(time.Second)
	if from, got := pass(); from != 0 || len(got) != 1 || got[0] != 8 {
		t.Fatalf("the full read (above %d) read %v, want 8", from, got)
	}
}
