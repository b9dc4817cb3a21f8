package pump

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/store"
)

// queue is a worker over n rows; a pass takes up to batch of them (failing
// while fail is set), and records when it ran.
type queue struct {
	mu     sync.Mutex
	rows   int
	batch  int
	fail   bool
	passes []time.Time
	left   []store.QueueStats
	cue    chan struct{}
}

func newQueue(rows, batch int) *queue {
	return &queue{rows: rows, batch: batch, cue: make(chan struct{}, 1)}
}

func (q *queue) Pass(context.Context) (int, bool, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.passes = append(q.passes, time.Now())
	if q.fail {
		return 0, false, true
	}
	took := min(q.rows, q.batch)
	q.rows -= took
	return took, took == q.batch && q.rows > 0, false
}

func (q *queue) Cue() <-chan struct{} { return q.cue }

func (q *queue) Stats(context.Context) (store.QueueStats, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return store.QueueStats{Pending: q.rows}, nil
}

func (q *queue) Observed(store.QueueStats) {}

func (q *queue) Left(st store.QueueStats) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.left = append(q.left, st)
}

func (q *queue) add(n int) {
	q.mu.Lock()
	q.rows += n
	q.mu.Unlock()
	select {
	case q.cue <- struct{}{}:
	default:
	}
}

func (q *queue) state() (rows, passes int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.rows, len(q.passes)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 10s: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// Rows written in this process are moved on the cue, not at the next
// poll, and a full pass is followed by another at once.
func TestCuedRowsAreMovedWithoutWaitingForThePoll(t *testing.T) {
	q := newQueue(0, 10)
	l := New(q, Options{Poll: time.Hour, Linger: time.Millisecond})
	defer l.Start()()
	eventually(t, "the first pass", func() bool { _, p := q.state(); return p >= 1 })
	q.add(35) // four passes: 10, 10, 10, 5
	eventually(t, "35 rows moved", func() bool { r, _ := q.state(); return r == 0 })
}

// After a failed pass the next waits the backoff, cued or not.
func TestAFailedPassIsRetriedAfterABackoff(t *testing.T) {
	q := newQueue(5, 10)
	q.fail = true
	l := New(q, Options{Poll: time.Hour})
	defer l.Start()()
	eventually(t, "the first pass", func() bool { _, p := q.state(); return p >= 1 })
	q.add(1) // a cue: no pass before the backoff
	eventually(t, "a second pass", func() bool { _, p := q.state(); return p >= 2 })
	q.mu.Lock()
	gap := q.passes[1].Sub(q.passes[0])
	q.fail = false
	q.mu.Unlock()
	if gap < 100*time.Millisecond {
		t.Fatalf("retried after %s, want the 100 ms backoff at least", gap)
	}
	eventually(t, "the rows moved once the passes succeed", func() bool { r, _ := q.state(); return r == 0 })
}

// On stop the loop makes passes until one takes nothing; rows it cannot
// move within the drain timeout are reported left.
func TestStopDrainsWhatIsLeftWithinTheTimeout(t *testing.T) {
	q := newQueue(0, 10)
	l := New(q, Options{Poll: time.Hour})
	stop := l.Start()
	eventually(t, "the first pass", func() bool { _, p := q.state(); return p >= 1 })
	q.mu.Lock()
	q.rows = 25 // written without a cue: only the stop's passes find them
	q.mu.Unlock()
	stop()
	if r, _ := q.state(); r != 0 || len(q.left) != 0 {
		t.Fatalf("%d rows left after stop (reported %v)", r, q.left)
	}

	q = newQueue(0, 10)
	l = New(q, Options{Poll: time.Hour, DrainTimeout: 50 * time.Millisecond})
	stop = l.Start()
	eventually(t, "the first pass", func() bool { _, p := q.state(); return p >= 1 })
	q.mu.Lock()
	q.rows, q.fail = 7, true
	q.mu.Unlock()
	stop()
	if len(q.left) != 1 || q.left[0].Pending != 7 {
		t.Fatalf("reported left %v, want 7 rows", q.left)
	}
}

// The status says stalled once the oldest row is older than StallAfter.
func TestStatusIsStalledWhenTheOldestRowIsTooOld(t *testing.T) {
	l := New(newQueue(0, 1), Options{StallAfter: 30 * time.Second})
	l.Observe(store.QueueStats{Pending: 3, Lag: 10 * time.Second})
	if st := l.Status(); st.Stalled || st.Pending != 3 {
		t.Fatalf("%+v", st)
	}
	l.Observe(store.QueueStats{Pending: 4, Lag: 31 * time.Second})
	if st := l.Status(); !st.Stalled || st.Lag != 31*time.Second {
		t.Fatalf("%+v", st)
	}
}

// Failures reports the first failure and the recovery once each, and keeps
// the last error until a pass succeeds.
func TestFailuresReportEachTurnOnce(t *testing.T) {
	var f Failures
	boom := errors.New("boom")
	for i, c := range []struct {
		err          error
		began, ended bool
		last         string
	}{{nil, false, false, ""}, {boom, true, false, "boom"}, {boom, false, false, "boom"}, {nil, false, true, ""}, {nil, false, false, ""}} {
		began, ended := f.Note(c.err)
		if began != c.began || ended != c.ended || f.Last() != c.last {
			t.Fatalf("pass %d: began %v ended %v last %q; want %v %v %q", i, began, ended, f.Last(), c.began, c.ended, c.last)
		}
	}
}
