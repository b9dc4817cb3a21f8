// Package throttle paces submit_sm to an operator's contracted TPS.
//
// One Limiter is shared by every bind of one operator. Each bind calls Wait
// before it writes a submit_sm (every segment of a long message is one
// submit_sm, so one Wait each), once it is bound with room in its window
// (connector/session): a grant is a time slot, and one spent later than it
// was taken arrives with the others spent then. Wait hands out evenly spaced
// slots at TPS*(1-margin), never more than TPS in any sliding window of
// 1/(1-margin) s (so never in any second, with margin/(1-margin) s to spare
// for the way to the SMSC, see WithMargin), and no catch-up burst after an
// idle or stalled period (at most a few milliseconds' worth of slots, see
// grant): operators count arrivals, and a burst sent after a stall arrives
// together with whatever the stall held back.
//
// When the SMSC answers ESME_RTHROTTLED or ESME_RMSGQFUL the caller calls
// Throttled and puts the message back in its queue (nothing is lost): the
// limiter pauses, halves its rate and recovers additively (AIMD), so a TPS
// configured higher than the operator really allows converges instead of
// hammering. The retry itself goes through Wait like any other submit_sm.
//
// # Why not golang.org/x/time/rate
//
// rate.Limiter (a token bucket) was the obvious candidate and is not used:
//   - a token bucket bounds tokens per second plus the burst, not arrivals in
//     every sliding 1 s window, so the hard guarantee needs its own ring anyway;
//   - rate.Limiter.Wait reserves a future time on entry; a cancelled
//     reservation cannot hand its slot to the waiters queued behind it (they
//     keep their later times), so cancellation wastes slots;
//   - a back-off pause or a SetLimit cannot move reservations already handed
//     out, so after ESME_RTHROTTLED the waiters already sleeping would still
//     fire on the old schedule.
//
// Here the next slot is decided only when the waiter at the head of a FIFO
// queue is about to be granted, so a pause, a TPS change or a cancellation
// takes effect on every waiter at once.
package throttle

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// Defaults.
const (
	// DefaultMargin is the fraction of the TPS kept in reserve (see WithMargin).
	DefaultMargin = 0.02
	// DefaultPause is how long Throttled stops all sends.
	DefaultPause = time.Second
	// DefaultDecrease multiplies the rate on Throttled.
	DefaultDecrease = 0.5
	// DefaultRecovery is how long the rate takes to climb from zero back to
	// the configured TPS after a pause (so from half: half of it).
	DefaultRecovery = 5 * time.Second
	// DefaultMinRate is the lowest rate a decrease goes to, per second.
	DefaultMinRate = 1.0
)

// maxRing bounds the memory of the sliding-window check (8 bytes a slot):
// TPS up to this is checked exactly; above it see ringFor.
const maxRing = 1 << 16

// Clock is the limiter's time source; tests inject a fake one.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed, and a function
	// that stops the timer.
	After(d time.Duration) (<-chan time.Time, func() bool)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) After(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// Option configures a Limiter. Options panic on out-of-range values: they are
// programming errors, not configuration.
type Option func(*config)

type config struct {
	margin   float64
	pause    time.Duration
	decrease float64
	recovery time.Duration
	minRate  float64
	clock    Clock
	onWait   func(time.Duration)
	ringCap  int
	onGrant  func(time.Time) // tests: called under the lock with each grant time
	lagNS    int64           // tests: overrides lag() when >= 0
}

// lag bounds how much wake-up lateness a waiter may make up (see grant): half
// of the margin's jitter budget, m/(1-m)/2 s (10.2 ms at 2%). Go timers on
// Linux wake up to ~1 ms late in a sawtooth (the runtime's netpoller sleeps
// in whole milliseconds) and several ms late under load; at 1000 TPS that is
// a whole slot or more, so not making it up costs utilisation, while making
// up more than a few ms is a catch-up burst after a stall. What is made up
// never eats into the jitter budget: the ring's window (config.window)
// bounds it.
func (c *config) lag() int64 {
	if c.lagNS >= 0 {
		return c.lagNS
	}
	return int64(float64(time.Second) * c.margin / (1 - c.margin) / 2)
}

// window is the ring's: at most TPS grants in any window of 1/(1-m) s, so
// that TPS+1 grants span more than the paced 1/(1-m) s even when the pacing
// makes up lateness (config.lag). At m = 0 it is the second itself.
func (c *config) window() int64 {
	return int64(math.Ceil(float64(time.Second) / (1 - c.margin)))
}

// WithMargin sets the safety margin: slots are paced at TPS*(1-margin) per
// second, and no more than TPS are granted in any window of 1/(1-margin) s.
// Default 2%.
//
// Why a proportion and why 2%: the limiter can only stamp its own grants;
// the operator stamps arrivals, which are grants plus a delay that varies
// (scheduling, TCP, the SMSC's reader). Any TPS+1 consecutive grants span
// more than 1/(1-m) s, a hard bound (the ring's window, whatever the pacing
// made up after a late wake-up), so arrivals may jitter by m/(1-m) s
// (20.4 ms at 2%) relative to each other before the operator sees TPS+1 in
// a second. That budget is the same at 10, 100 or 1000 TPS, which is what a
// proportional margin buys; utilisation is at most 1-m at every TPS. No
// rounding to whole messages: 9.8/s at 10 TPS is 98%, where rounding down to
// 9/s would be 90%. Nor a floor such as TPS-1: at 1000 TPS that is a 0.1%
// margin, a 1 ms budget, which scheduling noise alone exceeds. 1% (10.1 ms)
// was the default until saturated backlogs on a loaded 2-core machine showed
// more: 502-507 in a second of a 500 TPS contract (issue #12, grants then
// taken before the window wait: up to 14 ms), and 51 of 50 with 11 ms
// between a submit_sm's grant and its arrival. More than 3% would miss the
// 97% utilisation bar of issue #12.
func WithMargin(m float64) Option {
	if m < 0 || m >= 0.5 || math.IsNaN(m) {
		panic(fmt.Sprintf("throttle: margin %v not in [0, 0.5)", m))
	}
	return func(c *config) { c.margin = m }
}

// WithPause sets how long Throttled stops sending (default 1 s; 0: no pause).
func WithPause(d time.Duration) Option {
	if d < 0 {
		panic(fmt.Sprintf("throttle: negative pause %v", d))
	}
	return func(c *config) { c.pause = d }
}

// WithDecrease sets the factor Throttled multiplies the rate by (default 0.5).
func WithDecrease(f float64) Option {
	if !(f > 0 && f < 1) {
		panic(fmt.Sprintf("throttle: decrease %v not in (0, 1)", f))
	}
	return func(c *config) { c.decrease = f }
}

// WithRecovery sets how long the rate takes to climb linearly from zero to
// the configured TPS once a pause is over (default 5 s).
func WithRecovery(d time.Duration) Option {
	if d <= 0 {
		panic(fmt.Sprintf("throttle: recovery %v must be > 0", d))
	}
	return func(c *config) { c.recovery = d }
}

// WithMinRate sets the floor of a decrease in messages per second (default 1).
func WithMinRate(r float64) Option {
	if !(r > 0) {
		panic(fmt.Sprintf("throttle: min rate %v must be > 0", r))
	}
	return func(c *config) { c.minRate = r }
}

// WithClock sets the time source (default: the real clock).
func WithClock(clk Clock) Option { return func(c *config) { c.clock = clk } }

// WithWaitObserver is called after every granted Wait with the time it took
// (for a histogram); it must not call back into the Limiter.
func WithWaitObserver(f func(time.Duration)) Option { return func(c *config) { c.onWait = f } }

// Stats are the limiter's counters since New.
type Stats struct {
	TPS       int           `json:"tps"`
	Rate      float64       `json:"rate"`      // current effective rate (0: unlimited)
	Grants    uint64        `json:"grants"`    // slots handed out
	Waits     uint64        `json:"waits"`     // grants that had to wait for their slot
	WaitTime  time.Duration `json:"waitTime"`  // total time granted Waits spent waiting
	Cancelled uint64        `json:"cancelled"` // Waits that returned a context error
	Throttled uint64        `json:"throttled"` // Throttled calls (ESME_RTHROTTLED, ESME_RMSGQFUL)
	Decreases uint64        `json:"decreases"` // rate decreases they caused
	// Slip is sending time lost because a waiting head woke up more than the
	// lag after its slot: the connector's host or runtime was starved, not
	// the operator. Growing slip explains utilisation below 1-margin.
	Slip time.Duration `json:"slip"`
}

// Limiter paces one operator's submit_sm across all its binds. It is safe for
// concurrent use.
type Limiter struct {
	cfg   config
	clock Clock
	epoch time.Time
	// turn holds one token: its holder is the head of the FIFO queue, the only
	// waiter that looks at the clock. Blocked channel receivers are served in
	// arrival order, so this is the queue.
	turn chan struct{}
	// wake tells the head to recompute its slot (SetTPS).
	wake chan struct{}

	mu   sync.Mutex
	tps  int
	base float64 // paced rate at full speed, per second; +Inf when unlimited
	// Hard limit: at most len(ring) grants in any half-open window of ringW
	// ns (config.window, or a share of it, see ringFor). ring holds the
	// latest grants, ring[next] the oldest.
	ring  []int64
	next  int
	ringW int64
	tat   int64 // earliest time of the next slot (ns since epoch)
	last  int64 // last grant
	// AIMD: after a decrease at cutAt, nothing is granted until resumeAt, then
	// the rate climbs from cutRate to base.
	cut      bool
	cutRate  float64
	cutAt    int64
	resumeAt int64

	stats Stats
}

// New returns a limiter for an operator contracted at tps submit_sm per
// second. tps <= 0 means unlimited (Wait only honours Throttled's pause).
func New(tps int, opts ...Option) *Limiter {
	c := config{
		margin: DefaultMargin, pause: DefaultPause, decrease: DefaultDecrease,
		recovery: DefaultRecovery, minRate: DefaultMinRate, clock: realClock{}, ringCap: maxRing, lagNS: -1,
	}
	for _, o := range opts {
		o(&c)
	}
	l := &Limiter{cfg: c, clock: c.clock, turn: make(chan struct{}, 1), wake: make(chan struct{}, 1)}
	l.epoch = l.clock.Now()
	l.last = math.MinInt64 / 2
	l.turn <- struct{}{}
	l.setTPS(tps)
	return l
}

// ringFor sizes the sliding-window check for a window of window ns (a second
// or a little more, config.window). Up to ringCap TPS it is exact: at most
// tps grants in any such window. Above, it splits the window into k equal
// ones of at most n = tps/k grants each: any half-open window is covered by k
// consecutive half-open ones of w >= window/k, so it holds at most k*n <= tps
// grants, with memory bounded by ringCap slots.
func ringFor(tps, ringCap int, window int64) (n int, w int64) {
	k := (tps + ringCap - 1) / ringCap
	return tps / k, (window + int64(k) - 1) / int64(k)
}

func (l *Limiter) setTPS(tps int) {
	if tps <= 0 {
		l.tps, l.base, l.ring, l.next, l.cut = 0, math.Inf(1), nil, 0, false
		l.tat = l.last
		return
	}
	// Keep the latest grants, oldest first, so the window check carries over.
	n, w := ringFor(tps, l.cfg.ringCap, l.cfg.window())
	old := make([]int64, 0, len(l.ring))
	old = append(old, l.ring[l.next:]...)
	old = append(old, l.ring[:l.next]...)
	ring := make([]int64, n)
	for i := range ring {
		ring[i] = math.MinInt64 / 2
	}
	if len(old) > n {
		old = old[len(old)-n:]
	}
	copy(ring[n-len(old):], old)
	l.tps, l.ring, l.next, l.ringW = tps, ring, 0, w
	l.base = float64(tps) * (1 - l.cfg.margin)
	if l.cutRate > l.base {
		l.cutRate = l.base
	}
	// A faster rate may bring the next slot forward (never before last+interval).
	if t := l.last + l.interval(l.rateAt(l.last)); t < l.tat {
		l.tat = t
	}
}

// SetTPS changes the contracted TPS (configuration reload). Waiters pick up
// the new pacing at once; the sliding-window history is kept.
func (l *Limiter) SetTPS(tps int) {
	l.mu.Lock()
	l.setTPS(tps)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// TPS returns the configured TPS (0: unlimited).
func (l *Limiter) TPS() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tps
}

func (l *Limiter) now() (time.Time, int64) {
	t := l.clock.Now()
	return t, int64(t.Sub(l.epoch))
}

// rateAt is the effective rate at now, per second (+Inf when unlimited).
func (l *Limiter) rateAt(now int64) float64 {
	if !l.cut {
		return l.base
	}
	if now <= l.resumeAt {
		return l.cutRate
	}
	r := l.cutRate + l.base*float64(now-l.resumeAt)/float64(l.cfg.recovery)
	if r >= l.base {
		return l.base
	}
	return r
}

// interval is the slot spacing at rate r, rounded up so that pacing is never
// faster than r.
func (l *Limiter) interval(r float64) int64 {
	if math.IsInf(r, 1) {
		return 0
	}
	return int64(math.Ceil(float64(time.Second) / r))
}

// Rate returns the current effective rate in submit_sm per second: the
// configured TPS less the margin, lower after Throttled while it recovers
// (during a pause, the rate sending resumes at). 0 means unlimited.
func (l *Limiter) Rate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, now := l.now()
	return l.publicRate(now)
}

func (l *Limiter) publicRate(now int64) float64 {
	r := l.rateAt(now)
	if math.IsInf(r, 1) {
		return 0
	}
	return r
}

// earliest is when the next grant may happen.
func (l *Limiter) earliest() int64 {
	at := max(l.tat, l.resumeAt)
	if len(l.ring) > 0 {
		// Strictly more than the window after the grant len(ring) back: the
		// window (now-w, now] then holds at most len(ring) grants with this one.
		at = max(at, l.ring[l.next]+l.ringW+1)
	}
	return at
}

// grant hands out the slot scheduled at at (<= now) to a waiter at now.
//
// The next slot is at+interval, but the schedule may never run more than lag
// behind the clock (a GCRA with tolerance lag): lateness in waking the head,
// or a caller that came back a little after its slot, is made up for up to
// lag, and at 1000 TPS a few slots may then go out back to back; beyond lag
// the schedule restarts from now-lag. So no credit builds up however long the
// limiter was idle or stalled: afterwards it hands out at most lag's worth of
// slots early (none at 100 TPS and below, where lag is less than a slot).
func (l *Limiter) grant(nowT time.Time, now, at int64, waited bool) {
	iv := l.interval(l.rateAt(now))
	from := max(at, now-l.cfg.lag())
	if waited && from > at {
		l.stats.Slip += time.Duration(from - at)
	}
	l.tat = from + iv
	l.last = now
	if len(l.ring) > 0 {
		l.ring[l.next] = now
		l.next++
		if l.next == len(l.ring) {
			l.next = 0
		}
	}
	l.stats.Grants++
	if l.cfg.onGrant != nil {
		l.cfg.onGrant(nowT)
	}
}

// Wait blocks until one submit_sm may be written, then returns nil. On a
// cancelled or expired ctx it returns ctx.Err() at once and takes no slot.
// Waiters are served in arrival order.
func (l *Limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return l.cancelled(err)
	}
	// start is read only when the caller has to queue or sleep: the fast
	// path (free turn, slot due) reads the clock once.
	var start time.Time
	waited := false
	select {
	case <-l.turn:
	default:
		start, waited = l.clock.Now(), true
		select {
		case <-l.turn:
		case <-ctx.Done():
			return l.cancelled(ctx.Err())
		}
	}
	defer func() { l.turn <- struct{}{} }()
	for {
		if err := ctx.Err(); err != nil {
			return l.cancelled(err)
		}
		l.mu.Lock()
		nowT, now := l.now()
		at := l.earliest()
		if at <= now {
			l.grant(nowT, now, at, waited)
			var d time.Duration
			if waited {
				d = nowT.Sub(start)
				l.stats.Waits++
				l.stats.WaitTime += d
			}
			l.mu.Unlock()
			if l.cfg.onWait != nil {
				l.cfg.onWait(d)
			}
			return nil
		}
		l.mu.Unlock()
		if !waited {
			start, waited = nowT, true
		}
		c, stop := l.clock.After(time.Duration(at - now))
		select {
		case <-c:
		case <-l.wake:
			stop()
		case <-ctx.Done():
			stop()
			return l.cancelled(ctx.Err())
		}
	}
}

func (l *Limiter) cancelled(err error) error {
	l.mu.Lock()
	l.stats.Cancelled++
	l.mu.Unlock()
	return err
}

// Throttled reports that the SMSC answered ESME_RTHROTTLED or ESME_RMSGQFUL.
// The first report stops all sends for the pause and multiplies the rate by
// the decrease factor (not below the minimum rate); the rate then climbs back
// linearly (see WithRecovery). Reports within the pause, or within 1 s of the
// decrease when the pause is shorter, are counted but change nothing: they
// answer submit_sm sent before the decrease, and one overload would otherwise
// collapse the rate to the floor.
func (l *Limiter) Throttled() {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, now := l.now()
	l.stats.Throttled++
	holdoff := int64(max(l.cfg.pause, time.Second))
	if l.stats.Decreases > 0 && now < l.cutAt+holdoff {
		return
	}
	l.stats.Decreases++
	l.cutAt, l.resumeAt = now, now+int64(l.cfg.pause)
	if l.tps <= 0 {
		return // unlimited: nothing to decrease, only the pause
	}
	r := l.rateAt(now) * l.cfg.decrease
	if floor := min(l.cfg.minRate, l.base); r < floor {
		r = floor
	}
	l.cut, l.cutRate = true, r
}

// Stats returns the counters and the current rate.
func (l *Limiter) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, now := l.now()
	s := l.stats
	s.TPS = l.tps
	s.Rate = l.publicRate(now)
	return s
}
