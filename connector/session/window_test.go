package session

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestWindowBlocksWhenFullAndServesWaitersInOrder(t *testing.T) {
	w := newWindow(2)
	ctx := context.Background()
	for range 2 {
		if err := w.acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	order := make(chan int, 3)
	for i := range 3 {
		go func() {
			if err := w.acquire(ctx); err != nil {
				t.Error(err)
				return
			}
			order <- i
		}()
		waitFor(t, func() bool { return waiting(w) == i+1 }) // queued in this order
	}
	select {
	case i := <-order:
		t.Fatalf("waiter %d admitted while the window was full", i)
	default:
	}
	w.release()
	if got := <-order; got != 0 {
		t.Fatalf("first admitted waiter = %d, want 0", got)
	}
	w.release()
	if got := <-order; got != 1 {
		t.Fatalf("second admitted waiter = %d, want 1", got)
	}
	if n := w.outstanding(); n != 2 {
		t.Fatalf("outstanding = %d, want 2", n)
	}
}

func TestWindowGrowsAndShrinksWhileSubmitsWait(t *testing.T) {
	w := newWindow(1)
	ctx := context.Background()
	if err := w.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	var admitted atomic.Int32
	for range 3 {
		go func() {
			if w.acquire(ctx) == nil {
				admitted.Add(1)
			}
		}()
	}
	waitFor(t, func() bool { return waiting(w) == 3 })
	w.setLimit(3) // two of the three waiters fit now
	waitFor(t, func() bool { return admitted.Load() == 2 })
	if n := w.outstanding(); n != 3 {
		t.Fatalf("outstanding after growing to 3 = %d, want 3", n)
	}
	w.setLimit(1) // takes nothing back
	if n := w.outstanding(); n != 3 {
		t.Fatalf("outstanding after shrinking = %d, want 3 (nothing taken back)", n)
	}
	w.release()
	w.release()
	// 1 outstanding, limit 1: the third waiter still waits.
	if got := admitted.Load(); got != 2 || waiting(w) != 1 {
		t.Fatalf("admitted %d, waiting %d after shrinking to 1 with 1 outstanding; want 2 and 1", got, waiting(w))
	}
	w.release()
	waitFor(t, func() bool { return admitted.Load() == 3 })
}

func TestWindowWaiterGivesUpWithItsContext(t *testing.T) {
	w := newWindow(1)
	if err := w.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 1)
	go func() { errs <- w.acquire(ctx) }()
	waitFor(t, func() bool { return waiting(w) == 1 })
	cancel()
	if err := <-errs; err == nil {
		t.Fatal("acquire returned nil after its context ended with the window full")
	}
	if waiting(w) != 0 || w.outstanding() != 1 {
		t.Fatalf("waiting %d, outstanding %d after the waiter gave up; want 0 and 1", waiting(w), w.outstanding())
	}
	w.release()
	if w.outstanding() != 0 {
		t.Fatalf("outstanding %d after release, want 0", w.outstanding())
	}
}

// Many submits taking and giving back places while the limit moves: the
// count never exceeds the largest limit set, and every place is returned.
func TestWindowUnderConcurrentUseAndResizing(t *testing.T) {
	w := newWindow(5)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var most atomic.Int32
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if err := w.acquire(ctx); err != nil {
					t.Error(err)
					return
				}
				if n := int32(w.outstanding()); n > most.Load() {
					most.Store(n)
				}
				w.release()
			}
		}()
	}
	for i := range 100 {
		w.setLimit(1 + i%8)
	}
	wg.Wait()
	if w.outstanding() != 0 || waiting(w) != 0 {
		t.Fatalf("outstanding %d, waiting %d at the end; want 0 and 0", w.outstanding(), waiting(w))
	}
	if m := most.Load(); m > 8 {
		t.Fatalf("outstanding reached %d, above the largest limit (8)", m)
	}
}

func waiting(w *window) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.waiters.Len()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
