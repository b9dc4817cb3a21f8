package lease_test

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smpp-connector/smpp-connector/connector/lease"
	"github.com/smpp-connector/smpp-connector/internal/testutil"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
)

var env *testenv.TestEnv

func TestMain(m *testing.M) {
	os.Exit(testenv.RunWithServices(m, testenv.Services{Postgres: true}, &env))
}

// fast is a short poll for tests, not shorter: an owner's session is ended
// by PostgreSQL after four polls without a ping (idle_session_timeout), and
// on a busy 2-core machine a ping may come hundreds of milliseconds late.
func fast() lease.Options {
	return lease.Options{Poll: 250 * time.Millisecond, Grace: 300 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// sessions is how many sessions the test's database has had: every try
// for a lease opens one.
func sessions(t *testing.T, ctx context.Context, admin *pgx.Conn) int64 {
	t.Helper()
	var n int64
	if err := admin.QueryRow(ctx, `SELECT sessions FROM pg_stat_database WHERE datname = current_database()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

type acquired struct {
	owned   context.Context
	release func()
}

// mustAcquire takes the lease, failing the test when Acquire gives up (its
// context ends) rather than waiting for ever on a channel nobody sends to.
func mustAcquire(t *testing.T, ctx context.Context, l *lease.Lease) acquired {
	t.Helper()
	owned, release, err := l.Acquire(ctx)
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}
	return acquired{owned, release}
}

// acquire takes the lease in the background; the channel receives it once
// owned, and nothing if Acquire gives up (callers wait with a timeout).
func acquire(ctx context.Context, l *lease.Lease) <-chan acquired {
	ch := make(chan acquired, 1)
	go func() {
		owned, release, err := l.Acquire(ctx)
		if err == nil {
			ch <- acquired{owned, release}
		}
	}()
	return ch
}

func TestOneOwnerAtATimeAndTheStandbyTakesOver(t *testing.T) {
	dsn := env.FreshDatabase(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first := mustAcquire(t, ctx, lease.New(dsn, "mno-a", fast()))
	standby := acquire(ctx, lease.New(dsn, "mno-a", fast()))
	other := mustAcquire(t, ctx, lease.New(dsn, "mno-b", fast())) // another operator is independent
	defer other.release()
	// Barrier: the standby has tried for the lock, and been refused, twice
	// (each try is a new session: a third session means two ended without
	// the lock), rather than a pause after which it merely had not tried yet.
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	base := sessions(t, ctx, admin)
	testutil.WaitFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		select {
		case <-standby:
			t.Fatal("two owners of mno-a at once")
		default:
		}
		if n := sessions(t, ctx, admin) - base; n < 3 {
			return fmt.Errorf("the standby opened %d sessions", n)
		}
		return nil
	})
	first.release()
	if err := lease.Lost(first.owned); err != nil || first.owned.Err() == nil {
		t.Fatalf("released lease: ended=%v lost=%v", first.owned.Err(), err)
	}
	select {
	case second := <-standby:
		second.release()
	case <-time.After(5 * time.Second):
		t.Fatal("the standby did not take over after release")
	}
}

func TestOwnershipEndsWhenItsSessionDies(t *testing.T) {
	dsn := env.FreshDatabase(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first := mustAcquire(t, ctx, lease.New(dsn, "mno-a", fast()))
	defer first.release()
	standby := acquire(ctx, lease.New(dsn, "mno-a", fast()))
	// The owner's database session is killed (a failover, a network cut).
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var killed int
	if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND granted`).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminated %d sessions: %v", killed, err)
	}
	select {
	case <-first.owned.Done():
		if lease.Lost(first.owned) == nil {
			t.Fatal("ownership ended without a reason")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the owner did not notice it lost its session")
	}
	select {
	case second := <-standby:
		second.release()
	case <-time.After(5 * time.Second):
		t.Fatal("the standby did not take over")
	}
}

// An owner whose session dies during its grace period must not start: the
// standby that took the freed lock owns the operator alone.
func TestLossDuringTheGracePeriodMeansStandingBy(t *testing.T) {
	dsn := env.FreshDatabase(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	slow := fast()
	// Slower than the second lease's poll, so that the second takes the
	// lock the first loses.
	slow.Poll, slow.Grace = 500*time.Millisecond, 1500*time.Millisecond
	var logs testutil.LogBuffer
	slow.Log = slog.New(slog.NewTextHandler(&logs, nil))
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	first := acquire(ctx, lease.New(dsn, "mno-a", slow))
	// Its lock is taken: kill its session while it waits out the grace period.
	testutil.WaitFor(t, time.Second, 10*time.Millisecond, func() error {
		var killed int
		if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND granted`).Scan(&killed); err != nil {
			t.Fatal(err)
		}
		if killed != 1 {
			return errors.New("the first lease has not taken its lock")
		}
		return nil
	})
	second := mustAcquire(t, ctx, lease.New(dsn, "mno-a", fast()))
	// Barrier: the first lease says it stands by (at the end of its grace
	// period), instead of a pause it might merely not have finished.
	testutil.WaitFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		select {
		case a := <-first:
			a.release()
			t.Fatal("the first lease started although it lost its lock during the grace period")
		default:
		}
		if !logs.Contains("lease: lost before the grace period ended; standing by") {
			return fmt.Errorf("the first lease has not stood by; logs:\n%s", logs.String())
		}
		return nil
	})
	second.release()
	select {
	case a := <-first:
		a.release()
	case <-time.After(5 * time.Second):
		t.Fatal("the first lease did not take over once the lock was free")
	}
}

// Held tells whether anyone owns a name, without taking it: names whose
// lock key is negative as an int4 (an oid above 2^31 in pg_locks) too.
func TestHeldSaysWhetherSomeoneOwnsTheName(t *testing.T) {
	dsn := env.FreshDatabase(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var names []string // one with a positive key, one with a negative key
	for i, pos, neg := 0, false, false; !pos || !neg; i++ {
		name := fmt.Sprintf("operator/mno-%d", i)
		h := fnv.New32a()
		h.Write([]byte(name))
		if k := int32(h.Sum32()); k >= 0 && !pos {
			pos, names = true, append(names, name)
		} else if k < 0 && !neg {
			neg, names = true, append(names, name)
		}
	}
	for _, name := range names {
		l := lease.New(dsn, name, fast())
		held := func() bool {
			t.Helper()
			h, err := l.Held(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return h
		}
		if held() {
			t.Fatalf("%s held before anyone took it", name)
		}
		owner := mustAcquire(t, ctx, lease.New(dsn, name, fast()))
		other := lease.New(dsn, name+"-other", fast())
		if !held() {
			t.Fatalf("%s not held while owned", name)
		}
		if h, err := other.Held(ctx); err != nil || h {
			t.Fatalf("another name held: %v %v", h, err)
		}
		owner.release()
		testutil.WaitFor(t, 10*time.Second, 20*time.Millisecond, func() error {
			if held() {
				return fmt.Errorf("%s still held after release", name)
			}
			return nil
		})
	}
}

// Holder names the replica holding a lease, from any process, and nobody
// once it is released.
func TestHolderNamesTheOwningReplica(t *testing.T) {
	dsn := env.FreshDatabase(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	o := fast()
	o.Replica = "replica-7"
	owner := mustAcquire(t, ctx, lease.New(dsn, "mno-a", o))
	other := lease.New(dsn, "mno-a", fast())
	if h, err := other.Holder(ctx); err != nil || h != "replica-7" {
		t.Fatalf("Holder = %q, %v; want replica-7", h, err)
	}
	if h, err := lease.New(dsn, "mno-b", fast()).Holder(ctx); err != nil || h != "" {
		t.Fatalf("Holder of a lease nobody holds = %q, %v; want none", h, err)
	}
	owner.release()
	testutil.WaitFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if h, err := other.Holder(ctx); err != nil || h != "" {
			return fmt.Errorf("Holder after release = %q, %v", h, err)
		}
		return nil
	})
}
