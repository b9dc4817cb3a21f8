// Package queuecursor tells the reader of a queue table where its next read
// may start. The store's queues (the event outbox, the receipt inbox) are
// PostgreSQL tables whose rows are inserted with an identity id and deleted
// once handled; a reader takes the oldest rows (ORDER BY id LIMIT n). Read
// from the start, that walks the index entries (or, in a sequential scan,
// the heap) of every row deleted since the table's last VACUUM: at full
// speed tens of thousands, 1-3 ms of a read's time. Read past the rows
// already handled (WHERE id > from), it walks only what is new.
//
// Ids are taken when a row is inserted, not when it commits: a transaction
// that took id 100 may commit after another that took 101 was read, and a
// read past 101 would never see 100. So the cursor moves past what a read
// returned only once every transaction that was running during that read
// has ended. Each read reports its statement's pg_snapshot_xmin (the oldest
// transaction still running) and a transaction id assigned after its
// snapshot was taken (pg_current_xact_id(), its own: higher than that of
// any transaction running at its snapshot). An earlier read's ids are
// passed once a later read's xmin is above the earlier read's own id: a row
// the earlier read did not see belonged to a transaction that has ended by
// then, and if it committed, the later read, which began below it, returned
// it (or stopped at its limit below it, and the cursor stays there). A
// snapshot's xmax will not do: it is one past the last transaction
// completed, and one with a higher id may be running. Nothing is skipped,
// and the order the relay promises (a part's later event, written after its
// earlier one committed, is never read without it) holds as it did when
// every read began at the start. This rests on the ids coming from one
// sequence that hands them out in time order across sessions, as an
// identity column's does with its default CACHE 1 (a larger cache would
// break it).
//
// That needs each writer to hold its transaction id before it takes a row's
// id: the store's writers of the queues either write something else first
// or take it explicitly (appendSQL). Every FullEvery a read starts from the
// beginning anyway, as a backstop.
//
// The cursor never moves past a row a read returned that is still there (a
// publish that failed, a part's event held for the next pass, a second
// receipt of a key), nor past the last row a read returned (a read that hit
// its limit saw nothing above it). A long transaction holding an id,
// anywhere in the cluster (a session idle in a transaction that wrote, a
// forgotten prepared transaction), holds xmin back and with it the cursor:
// reads then walk from where it stopped, as they all did before.
package queuecursor

import (
	"sync"
	"time"
)

// DefaultFullEvery is how often a read starts from the beginning: it costs
// what every read cost without the cursor.
const DefaultFullEvery = time.Second

// Options tune a Cursor. Zero values take the defaults.
type Options struct {
	FullEvery time.Duration
	// Now is the clock (time.Now): tests pass a fake one.
	Now func() time.Time
}

// Cursor is one reader's position in one queue. Its methods are safe for
// concurrent use; a read that begins while another is in progress reads
// from the beginning and moves nothing.
type Cursor struct {
	opts Options

	mu       sync.Mutex
	busy     bool      // a read owns the cursor
	lastFull time.Time // the last read from the beginning
	// safe: every row up to this id was returned by a read, or was never
	// committed.
	safe  int64
	marks []mark // reads not passed yet: a transaction with a lower id may still run
	// limit: the last read's highest id returned, or below the lowest it
	// left in the table if lower.
	limit int64
}

// mark is what a read returned, up to max, and its own transaction id: a
// transaction that may hold a row below max it did not see has a lower one.
type mark struct{ max, xid int64 }

// maxMarks bounds the marks kept while a long transaction holds xmin back:
// beyond it the two oldest are merged, which only makes the cursor wait for
// the later of the two.
const maxMarks = 64

// Snapshot is what a read reports of the transactions: its statement's
// pg_snapshot_xmin (the oldest still running) and a transaction id
// assigned after its snapshot was taken (pg_current_xact_id(); 0 if
// unknown).
type Snapshot struct{ Xmin, Xid int64 }

// New returns a cursor at the beginning of the queue.
func New(opts Options) *Cursor {
	if opts.FullEvery <= 0 {
		opts.FullEvery = DefaultFullEvery
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Cursor{opts: opts}
}

// Read is one read of the queue: From is where it starts (ids above it; 0:
// the whole queue). End it, whether the read succeeded or not.
type Read struct {
	From int64
	c    *Cursor // nil: the read does not own the cursor
}

// Begin starts a read.
func (c *Cursor) Begin() Read {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.busy {
		return Read{}
	}
	c.busy = true
	now := c.opts.Now()
	if c.lastFull.IsZero() || now.Sub(c.lastFull) >= c.opts.FullEvery {
		c.lastFull = now
		return Read{c: c}
	}
	return Read{From: c.position(), c: c}
}

// Position is where the next read that is not a full one starts.
func (c *Cursor) Position() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.position()
}

func (c *Cursor) position() int64 { return min(c.safe, c.limit) }

// Extent is what End wants of a read's rows: ids, in the order read (id
// order), and stillThere, whether a row is still in the table after the
// reader's work. It returns the highest id and the lowest still there (0:
// none).
func Extent(ids []int64, stillThere func(id int64) bool) (maxRead, lowestLeft int64) {
	if len(ids) == 0 {
		return 0, 0
	}
	for _, id := range ids {
		if stillThere(id) {
			return ids[len(ids)-1], id
		}
	}
	return ids[len(ids)-1], 0
}

// End records what the read found: the highest id it returned (0: none, or
// it failed), the lowest id it returned that is still in the table (0:
// none; every row it returned was deleted), and its snapshot.
func (r Read) End(maxRead, lowestLeft int64, snap Snapshot) {
	c := r.c
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.busy = false
	if maxRead <= 0 {
		return // nothing seen: nothing learnt
	}
	// Pass the earlier reads whose own id is below this read's xmin: every
	// transaction with a lower id has ended, so what they did not see below
	// their highest id, this read (which began at or below c.safe, so below
	// those ids) saw if it was committed. Reads are one at a time, so their
	// ids only grow.
	passed := 0
	for _, m := range c.marks {
		if m.xid >= snap.Xmin {
			break
		}
		c.safe = max(c.safe, m.max)
		passed++
	}
	if passed > 0 {
		c.marks = append(c.marks[:0], c.marks[passed:]...)
	}
	if len(c.marks) >= maxMarks {
		c.marks[1].max = max(c.marks[0].max, c.marks[1].max)
		c.marks = append(c.marks[:0], c.marks[1:]...)
	}
	if snap.Xid > 0 { // unknown (the relay's last round trip failed): its rows wait for a later read's mark
		c.marks = append(c.marks, mark{max: maxRead, xid: snap.Xid})
	}
	c.limit = maxRead
	if lowestLeft > 0 {
		c.limit = min(c.limit, lowestLeft-1)
	}
}
