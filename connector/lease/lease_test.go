package lease_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smpp-connector/smpp-connector/connector/lease"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
)

var env *testenv.TestEnv

func TestMain(m *testing.M) {
	os.Exit(testenv.RunWithServices(m, testenv.Services{Postgres: true}, &env))
}

func fast() lease.Options {
	return lease.Options{Poll: 50 * time.Millisecond, Grace: 100 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
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
	select {
	case <-standby:
		t.Fatal("two owners of mno-a at once")
	case <-time.After(500 * time.Millisecond):
	}
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
	slow.Poll, slow.Grace = 100*time.Millisecond, 800*time.Millisecond
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	first := acquire(ctx, lease.New(dsn, "mno-a", slow))
	// Its lock is taken: kill its session while it waits out the grace period.
	var killed int
	for i := 0; i < 100 && killed == 0; i++ {
		time.Sleep(10 * time.Millisecond)
		if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND granted`).Scan(&killed); err != nil {
			t.Fatal(err)
		}
	}
	if killed != 1 {
		t.Fatal("the first lease never took its lock")
	}
	second := mustAcquire(t, ctx, lease.New(dsn, "mno-a", fast()))
	select {
	case a := <-first:
		a.release()
		t.Fatal("the first lease started although it lost its lock during the grace period")
	case <-time.After(1500 * time.Millisecond):
	}
	second.release()
	select {
	case a := <-first:
		a.release()
	case <-time.After(5 * time.Second):
		t.Fatal("the first lease did not take over once the lock was free")
	}
}
