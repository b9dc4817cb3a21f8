// Package lease makes one connector replica at a time the owner of an
// operator: the owner binds and sends, the others stand by and take over
// when it goes. Without it two replicas would each pace to the operator's
// TPS and together send twice that, and bind twice as often as the operator
// may allow.
//
// Ownership is a PostgreSQL session advisory lock, held on a connection of
// its own: the database every replica already shares, and a lock that
// disappears with the holder's session when the process dies or its
// connection breaks (the session ends itself when the holder's pings stop:
// idle_session_timeout). The holder pings the connection and gives ownership
// up as soon as a ping fails; a new owner waits a grace period, still
// pinging, before it starts, so that the two do not overlap while the old
// one notices. An old owner stops sending at once, but keeps its binds until
// what it sent is answered (at most the response timeout).
package lease

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// lockSpace is the advisory lock namespace of operator ownership.
const lockSpace int32 = 0x736d706c // "smpl"

// Options tune a Lease.
type Options struct {
	// Poll is how often a standby tries to take the lock and the owner
	// checks its connection (default 1s).
	Poll time.Duration
	// Grace is how long a new owner waits before it starts (default 5
	// polls): the previous owner has given up by then (its next ping, and
	// that ping's timeout of 2 polls, with a poll to spare).
	Grace time.Duration
	Log   *slog.Logger
	// Replica names this process to the others (Holder): the lock's
	// session carries it as its application_name (default the host name).
	Replica string
}

func (o *Options) defaults() {
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Grace <= 0 {
		o.Grace = 5 * o.Poll
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Replica == "" {
		o.Replica, _ = os.Hostname()
	}
}

// appPrefix starts the application_name of a lock's session: short, as
// PostgreSQL keeps 63 bytes of it and the rest is the replica's name.
const appPrefix = "smpp-lease "

// Lease is the ownership of one name (an operator id) in one database.
type Lease struct {
	dsn  string
	name string
	key  int32
	o    Options
}

// New returns the lease of name in the database at dsn.
func New(dsn, name string, o Options) *Lease {
	o.defaults()
	h := fnv.New32a()
	h.Write([]byte(name))
	return &Lease{dsn: dsn, name: name, key: int32(h.Sum32()), o: o}
}

// Acquire waits until this process owns the name, or ctx ends. It returns a
// context that ends when ownership is lost (the lock's connection failed)
// or release is called; release gives the lock up.
func (l *Lease) Acquire(ctx context.Context) (owned context.Context, release func(), err error) {
	for {
		conn, err := l.tryLock(ctx)
		if err == nil && conn != nil {
			// Held, and watched, from now: losing it during the grace period
			// means standing by again, not starting.
			owned, release, check := l.hold(ctx, conn)
			select {
			case <-time.After(l.o.Grace):
			case <-owned.Done():
			}
			if owned.Err() == nil && check() == nil && owned.Err() == nil {
				return owned, release, nil
			}
			release()
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			l.o.Log.Warn("lease: lost before the grace period ended; standing by", "name", l.name, "err", Lost(owned))
			continue
		}
		if err != nil && ctx.Err() == nil {
			l.o.Log.Warn("lease: cannot reach the database; standing by", "name", l.name, "err", err)
		}
		select {
		case <-time.After(l.o.Poll):
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}

// heldSQL tells whether a session holds the name's lock in this database
// (an advisory lock on two int4 keys shows as classid, objid, objsubid 2;
// objid is the second key as an unsigned oid).
const heldSQL = `
SELECT EXISTS (SELECT 1 FROM pg_locks
	WHERE locktype = 'advisory' AND granted AND objsubid = 2
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND classid::int8 = $1 AND objid::int8 = $2)`

// Held reports whether some session (this process's or another's) owns the
// name now, without waiting for it: for a replica that must not take the
// lease from a runner, only find out whether one runs (operator.Strays).
func (l *Lease) Held(ctx context.Context) (bool, error) {
	cctx, cancel := context.WithTimeout(ctx, l.o.Poll+5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, l.dsn)
	if err != nil {
		return false, fmt.Errorf("lease %s: connect: %w", l.name, err)
	}
	defer conn.Close(context.Background())
	var held bool
	if err := conn.QueryRow(cctx, heldSQL, int64(uint32(lockSpace)), int64(uint32(l.key))).Scan(&held); err != nil {
		return false, fmt.Errorf("lease %s: is it held: %w", l.name, err)
	}
	return held, nil
}

// holderSQL names the session holding the name's lock by its
// application_name.
const holderSQL = `
SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
	WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
		AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND l.classid::int8 = $1 AND l.objid::int8 = $2`

// Holder names the replica that owns the name now ("" when none does), as
// its lease's Options.Replica says.
func (l *Lease) Holder(ctx context.Context) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, l.o.Poll+5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, l.dsn)
	if err != nil {
		return "", fmt.Errorf("lease %s: connect: %w", l.name, err)
	}
	defer conn.Close(context.Background())
	var app string
	err = conn.QueryRow(cctx, holderSQL, int64(uint32(lockSpace)), int64(uint32(l.key))).Scan(&app)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("lease %s: holder: %w", l.name, err)
	}
	if h, ok := strings.CutPrefix(app, appPrefix); ok {
		return h, nil
	}
	return "(unnamed session)", nil
}

// tryLock returns a connection holding the lock, nil if another session
// holds it.
func (l *Lease) tryLock(ctx context.Context) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, l.o.Poll+5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, l.dsn)
	if err != nil {
		return nil, fmt.Errorf("lease %s: connect: %w", l.name, err)
	}
	// If this process vanishes without closing the connection (a node lost,
	// a partition), PostgreSQL would keep the session, and the lock, until
	// TCP keepalive gives up (hours): end it when the pings stop instead.
	// (PostgreSQL 14 or later; older servers rely on keepalive.)
	if _, err := conn.Exec(cctx, fmt.Sprintf("SET idle_session_timeout = %d", (4*l.o.Poll).Milliseconds())); err != nil {
		l.o.Log.Warn("lease: idle_session_timeout not set: a vanished owner keeps the lock until TCP keepalive ends its session",
			"name", l.name, "err", err)
	}
	// Who holds the lock, for the others to tell (Holder).
	if _, err := conn.Exec(cctx, `SELECT set_config('application_name', $1, false)`, appPrefix+l.o.Replica); err != nil {
		l.o.Log.Debug("lease: application_name not set: Holder will not name this replica", "name", l.name, "err", err)
	}
	var got bool
	if err := conn.QueryRow(cctx, `SELECT pg_try_advisory_lock($1::int4, $2::int4)`, lockSpace, l.key).Scan(&got); err != nil {
		_ = conn.Close(context.Background())
		return nil, fmt.Errorf("lease %s: lock: %w", l.name, err)
	}
	if !got {
		_ = conn.Close(context.Background())
		return nil, nil
	}
	return conn, nil
}

// hold keeps the lock's connection alive and ends owned when it fails;
// check pings it now (the connection is used by this goroutine only).
func (l *Lease) hold(ctx context.Context, conn *pgx.Conn) (owned context.Context, release func(), check func() error) {
	owned, lose := context.WithCancelCause(ctx)
	stopped := make(chan struct{})
	checks := make(chan chan error)
	go func() {
		defer close(stopped)
		t := time.NewTicker(l.o.Poll)
		defer t.Stop()
		for {
			var reply chan error
			select {
			case <-owned.Done():
				return
			case <-t.C:
			case reply = <-checks:
			}
			// Two polls: a slow moment of the database is not a loss.
			pctx, cancel := context.WithTimeout(owned, 2*l.o.Poll)
			err := conn.Ping(pctx)
			cancel()
			if err != nil && owned.Err() == nil {
				lose(fmt.Errorf("lease %s: lost the database session: %w", l.name, err))
			}
			if reply != nil {
				reply <- err
			}
			if err != nil {
				return
			}
		}
	}()
	check = func() error {
		reply := make(chan error, 1)
		select {
		case checks <- reply:
			return <-reply
		case <-stopped:
			return Lost(owned)
		}
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			lose(errReleased)
			<-stopped
			uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, _ = conn.Exec(uctx, `SELECT pg_advisory_unlock($1::int4, $2::int4)`, lockSpace, l.key)
			_ = conn.Close(uctx)
		})
	}
	return owned, release, check
}

var errReleased = errors.New("lease released")

// PreviousOwnerLag is how long after Acquire returns the previous owner may
// still have been starting work (negative: it had stopped before). It gives
// up at its first ping after its session ended: within a poll when the
// database ended the session (a restart, a terminated backend); when its
// pings stop reaching the database they time out in two polls, before the
// database ends the idle session (four). Acquire returns a grace after the
// lock was taken. What the previous owner started before it stopped may
// still be running for as long as that work may last (a submit waiting for
// its answer: the response timeout).
func (l *Lease) PreviousOwnerLag() time.Duration { return l.o.Poll - l.o.Grace }

// Lost reports why an owned context ended: nil if it was released (or its
// parent ended), the connection's error if ownership was lost.
func Lost(owned context.Context) error {
	err := context.Cause(owned)
	if errors.Is(err, errReleased) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
