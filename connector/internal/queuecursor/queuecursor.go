// Package queuecursor tells the reader of a queue table where its next read
// may start. The store's queues (the event outbox, the receipt inbox) are
// PostgreSQL tables whose rows are inserted with an identity id and deleted
// once handled; a reader takes the oldest rows (ORDER BY id LIMIT n). Read
// from the start, that walks the index entries (or, in a sequential scan,
// the heap) of every row deleted since the table's last VACUUM: at full
// speed tens of thousands, a few milliseconds of PostgreSQL's CPU per read
// and a fifth of its statement time. Read past the last id handled (WHERE
// id > from), it walks only what is new.
//
// Ids are taken when a row is inserted, not when it commits: a transaction
// that took id 100 may commit after another that took 101 was read. A read
// past 101 would never see 100. The cursor therefore advances only past
// what a read saw at least Grace ago: a row missing below that was in a
// transaction open for longer than Grace, or was never committed. And every
// FullEvery a read starts from the beginning, which finds such a row after
// all: late, never lost. It never advances past a row a read returned that
// is still there (a publish that failed, a receipt held for the next pass),
// nor past the last row a read returned (those beyond its limit).
//
// Why not a transaction-id watermark (pg_snapshot_xmin, as some outbox
// relays use): it needs a column more in each row and the rows' commit
// order, for a gain this cursor already has (a read walks Grace's worth of
// deleted rows at most, against every row since the last VACUUM).
package queuecursor

import (
	"sync"
	"time"
)

// Defaults for Options.
const (
	// DefaultGrace is far longer than a store transaction takes between
	// its insert and its commit (a few to 30 ms at full speed), and short
	// enough that a read walks few deleted rows (a quarter second's
	// worth).
	DefaultGrace = 250 * time.Millisecond
	// DefaultFullEvery bounds how late a row is read whose transaction
	// stayed open longer than the grace (a lock wait, a stalled disk): a
	// read from the beginning costs what every read cost before.
	DefaultFullEvery = time.Second
)

// Options tune a Cursor. Zero values take the defaults.
type Options struct {
	Grace     time.Duration
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
	safe     int64     // the highest id a read returned at least Grace ago
	marks    []mark    // reads not Grace old yet
	// limit: the last read's highest id returned, or below the lowest it
	// left in the table if lower.
	limit int64
}

// mark is what a read saw: the highest id it returned, and when it ended
// (after its snapshot: a row it did not see committed after then).
type mark struct {
	at  time.Time
	max int64
}

// New returns a cursor at the beginning of the queue.
func New(opts Options) *Cursor {
	if opts.Grace <= 0 {
		opts.Grace = DefaultGrace
	}
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
	// A read that ended Grace before this one begins certifies its ids: a
	// row below its highest that no read has returned since was in a
	// transaction open for at least Grace (the full read finds it) or was
	// never committed.
	aged := 0
	for _, m := range c.marks {
		if now.Sub(m.at) < c.opts.Grace {
			break
		}
		c.safe = max(c.safe, m.max)
		aged++
	}
	c.marks = append(c.marks[:0], c.marks[aged:]...)
	return Read{From: min(c.safe, c.limit), c: c}
}

// End records what the read found: the highest id it returned (0: none, or
// it failed) and the lowest id it returned that is still in the table (0:
// none; every row it returned was deleted).
func (r Read) End(maxRead, lowestLeft int64) {
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
	c.marks = append(c.marks, mark{at: c.opts.Now(), max: maxRead})
	// Not past the last row returned (a read that hit its limit saw
	// nothing above it), nor past a row still there.
	c.limit = maxRead
	if lowestLeft > 0 {
		c.limit = min(c.limit, lowestLeft-1)
	}
}
