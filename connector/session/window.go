package session

import (
	"container/list"
	"context"
	"sync"
)

// window is a bind's count of submit_sm awaiting their resp, bounded by a
// limit that can change while submits wait (an operator's window changed by
// a configuration reload). A buffered channel would do as a fixed semaphore,
// but its capacity is fixed for life. Waiters are served first come, first
// served, each woken by its own channel: a release wakes one waiter, not all
// of them (an operator's consumer may have a few hundred submits waiting).
type window struct {
	mu      sync.Mutex
	n       int
	limit   int
	waiters list.List // of chan struct{} (buffered 1): granted when it receives
}

func newWindow(limit int) *window {
	return &window{limit: max(limit, 1)}
}

// acquire takes a place in the window, waiting while it is full, or returns
// ctx's error without one.
func (w *window) acquire(ctx context.Context) error {
	w.mu.Lock()
	if w.n < w.limit && w.waiters.Len() == 0 {
		w.n++
		w.mu.Unlock()
		return nil
	}
	granted := make(chan struct{}, 1)
	e := w.waiters.PushBack(granted)
	w.mu.Unlock()
	select {
	case <-granted:
		return nil
	case <-ctx.Done():
		w.mu.Lock()
		select {
		case <-granted:
			// Granted as ctx ended: the place is ours, give it back.
			w.n--
			w.grantLocked()
		default:
			w.waiters.Remove(e)
		}
		w.mu.Unlock()
		return ctx.Err()
	}
}

// release gives a place back and hands it to the first waiter, if the limit
// allows.
func (w *window) release() {
	w.mu.Lock()
	w.n--
	w.grantLocked()
	w.mu.Unlock()
}

// grantLocked admits waiters, oldest first, while there is room.
func (w *window) grantLocked() {
	for w.n < w.limit && w.waiters.Len() > 0 {
		e := w.waiters.Front()
		w.waiters.Remove(e)
		w.n++
		e.Value.(chan struct{}) <- struct{}{}
	}
}

// setLimit changes the limit. Growing admits waiters at once; shrinking
// takes nothing back: the submits outstanding are answered as usual, and
// new ones wait until the count is below the new limit.
func (w *window) setLimit(limit int) {
	w.mu.Lock()
	w.limit = max(limit, 1)
	w.grantLocked()
	w.mu.Unlock()
}

// outstanding is the number of places taken.
func (w *window) outstanding() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// size is the current limit.
func (w *window) size() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.limit
}
