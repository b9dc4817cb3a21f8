package load

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/linxGnu/gosmpp/data"

	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// runner is the state shared by the binds of one run.
type runner struct {
	cfg  Config
	log  *slog.Logger
	tmpl *template
	lim  *rate.Limiter
	// paceTokens: a paced writer waits until this many tokens are available
	paceTokens float64
	track      *tracker
	base       time.Time

	claimed  atomic.Uint64 // message numbers handed out (also the destination counter)
	stopping atomic.Bool   // stop submitting
	stopCh   chan struct{} // closed with stopping
	closing  atomic.Bool   // unbinding: connection errors are expected
	stopOnce sync.Once
}

func (r *runner) now() int64 { return int64(time.Since(r.base)) }

func (r *runner) stop() {
	r.stopOnce.Do(func() {
		r.stopping.Store(true)
		close(r.stopCh)
	})
}

// Run binds, sends, waits for receipts, unbinds and reports. On a bind error it
// returns that error and an empty Result. Once bound, it always returns what
// was done: with ctx cancelled it stops sending, collects the answers in
// flight for a moment, unbinds and returns the Result with ctx's error; when a
// bind breaks during the run, the other binds go on and the first such error
// is returned with the Result.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	tmpl, _ := newTemplate(cfg)
	r := &runner{cfg: cfg, log: logger, tmpl: tmpl, base: time.Now(), stopCh: make(chan struct{})}
	if cfg.TPS > 0 {
		burst := int(cfg.TPS / 200) // at most 5 ms of tokens: even pacing, tolerant of timer slack
		if burst < 1 {
			burst = 1
		}
		r.lim = rate.NewLimiter(rate.Limit(cfg.TPS), burst)
		r.paceTokens = min(float64(burst), max(1, cfg.TPS/1000))
	}
	if cfg.Receipts {
		r.track = newTracker()
	}

	// Bind.
	roles := make([]string, 0, 2*cfg.Binds)
	for range cfg.Binds {
		roles = append(roles, cfg.BindType)
	}
	if cfg.BindType == BindTX && cfg.Receipts {
		for range cfg.Binds {
			roles = append(roles, "rx")
		}
	}
	binds := make([]*bind, len(roles))
	errs := make([]error, len(roles))
	var wg sync.WaitGroup
	for i, role := range roles {
		wg.Go(func() { binds[i], errs[i] = dial(ctx, r, i%cfg.Binds, role) })
	}
	wg.Wait()
	if err := firstError(errs); err != nil {
		for _, b := range binds {
			if b != nil {
				b.conn.Close()
			}
		}
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return Result{}, err
	}
	logger.Info("bound", "binds", len(binds), "addr", cfg.Addr, "bind_type", cfg.BindType)

	// Send.
	t0 := r.now()
	for _, b := range binds {
		b.start()
	}
	interrupted := false
	ctxDone := ctx.Done()
	var deadline <-chan time.Time
	if cfg.Duration > 0 {
		dt := time.NewTimer(cfg.Duration)
		defer dt.Stop()
		deadline = dt.C
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var stoppedAt time.Time
	lastSweep, lastLog := time.Now(), time.Now()
	progress := func(phase string) {
		if time.Since(lastLog) >= 5*time.Second {
			lastLog = time.Now()
			var s, a, rj, rc uint64
			for _, b := range binds {
				s, a, rj, rc = s+b.sent.Load(), a+b.accepted.Load(), rj+b.rejected.Load(), rc+b.receipts.Load()
			}
			logger.Info(phase, "sent", s, "accepted", a, "rejected", rj, "receipts", rc,
				"elapsed", time.Duration(r.now()-t0).Round(time.Millisecond))
		}
	}
sending:
	for {
		select {
		case <-ctxDone:
			ctxDone = nil
			interrupted = true
			r.stop()
			stoppedAt = time.Now()
			logger.Info("interrupted: stopping")
		case <-deadline:
			deadline = nil
			r.stop()
		case <-tick.C:
		}
		if time.Since(lastSweep) >= 100*time.Millisecond {
			lastSweep = time.Now()
			now := r.now()
			for _, b := range binds {
				if b.send && !b.dead.Load() {
					b.sweep(now)
				}
			}
		}
		progress("sending")
		done := true
		for _, b := range binds {
			if !b.send || b.dead.Load() {
				continue
			}
			select {
			case <-b.sendDone:
				if b.outstanding() > 0 {
					done = false
				}
			default:
				done = false
			}
		}
		if done {
			break sending
		}
		if interrupted && time.Since(stoppedAt) > min(cfg.RespTimeout, 2*time.Second) {
			break sending
		}
	}
	r.stop()
	sendEnd := t0
	for _, b := range binds {
		sendEnd = max(sendEnd, b.lastSent.Load(), b.lastResp.Load())
	}

	// Wait for receipts.
	receiptsDone := func() bool {
		var a, rc uint64
		for _, b := range binds {
			a, rc = a+b.accepted.Load(), rc+b.receipts.Load()
		}
		return rc >= a
	}
	if cfg.Receipts && !interrupted && !receiptsDone() && anyAlive(binds, func(b *bind) bool { return b.role != "tx" }) {
		wait := time.NewTimer(cfg.ReceiptWait)
	receipts:
		for !receiptsDone() {
			select {
			case <-ctx.Done():
				interrupted = true
				logger.Info("interrupted: not waiting for more receipts")
				break receipts
			case <-wait.C:
				break receipts
			case <-tick.C:
				progress("waiting for receipts")
			}
			if !anyAlive(binds, func(b *bind) bool { return b.role != "tx" }) {
				break
			}
		}
		wait.Stop()
	}

	// Unbind.
	r.closing.Store(true)
	for _, b := range binds {
		close(b.unbindCh)
	}
	unbindWait := time.NewTimer(min(cfg.RespTimeout, 5*time.Second))
	for _, b := range binds {
		select {
		case <-b.readerDone:
		case <-unbindWait.C:
			unbindWait.Reset(0)
		}
	}
	unbindWait.Stop()
	for _, b := range binds {
		b.conn.Close()
		<-b.readerDone
		<-b.writerDone
	}

	res := collect(r, binds, t0, sendEnd)
	res.Interrupted = interrupted
	errs = errs[:0]
	for _, b := range binds {
		errs = append(errs, b.error())
	}
	err := firstError(errs)
	if interrupted {
		err = errors.Join(fmt.Errorf("interrupted: %w", ctx.Err()), err)
	}
	return res, err
}

func anyAlive(binds []*bind, f func(*bind) bool) bool {
	for _, b := range binds {
		if f(b) && !b.dead.Load() {
			return true
		}
	}
	return false
}

func firstError(errs []error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func collect(r *runner, binds []*bind, t0, sendEnd int64) Result {
	cfg := r.cfg
	res := Result{
		Addr: cfg.Addr, BindType: cfg.BindType, Binds: cfg.Binds, Window: cfg.Window, TPSCap: cfg.TPS,
		ReceiptsRequested: cfg.Receipts,
		RejectedByStatus:  map[string]uint64{},
	}
	var resp, rcpt hist
	var lastReceipt int64
	for _, b := range binds {
		res.Sent += b.sent.Load()
		res.Accepted += b.accepted.Load()
		res.Rejected += b.rejected.Load()
		res.TimedOut += b.timedOut.Load()
		res.GenericNacks += b.nacks.Load()
		res.LateResponses += b.late.Load()
		res.Receipts += b.receipts.Load()
		res.MO += b.mo.Load()
		lastReceipt = max(lastReceipt, b.lastReceipt.Load())
		for k, v := range b.rejectedBy {
			name := wire.StatusName(data.CommandStatusType(uint32(k)))
			if k&nackKey != 0 {
				name = "generic_nack " + name
			}
			res.RejectedByStatus[name] += v
		}
		resp.merge(&b.respHist)
		rcpt.merge(&b.rcptHist)
	}
	if answered := res.Accepted + res.Rejected + res.TimedOut; res.Sent > answered {
		res.Unanswered = res.Sent - answered
	}
	res.SendElapsed = time.Duration(sendEnd - t0)
	if res.SendElapsed > 0 {
		res.SubmitRate = float64(res.Sent) / res.SendElapsed.Seconds()
	}
	res.RespLatency = latencyOf(&resp)
	res.ReceiptsMatched = rcpt.n
	if res.Receipts > 0 && lastReceipt > t0 {
		res.ReceiptRate = float64(res.Receipts) / time.Duration(lastReceipt-t0).Seconds()
	}
	res.ReceiptLatency = latencyOf(&rcpt)
	res.Elapsed = time.Duration(r.now())
	return res
}

func latencyOf(h *hist) Latency {
	return Latency{
		Count: h.n,
		P50:   h.quantile(0.50),
		P90:   h.quantile(0.90),
		P99:   h.quantile(0.99),
		Max:   time.Duration(h.max),
	}
}

func sortedKeys(m map[string]uint64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		if m[ks[i]] != m[ks[j]] {
			return m[ks[i]] > m[ks[j]]
		}
		return ks[i] < ks[j]
	})
	return ks
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
