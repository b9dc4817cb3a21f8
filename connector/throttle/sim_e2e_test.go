package throttle_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/connector/throttle"
	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/meter"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// startSim runs the simulator with one operator whose account is contracted
// at tps (so its meter audits breaches like the operator) and a throttle fault
// at the same tps (so a breach is also answered ESME_RTHROTTLED).
func startSim(t testing.TB, tps int) (*server.Sim, string) {
	t.Helper()
	cfg := server.Config{Operators: []server.OperatorConfig{{
		ID: "op", Listen: "127.0.0.1:0",
		Accounts: []server.AccountConfig{{SystemID: "test", Password: "test", TPS: tps}},
	}}}
	sim, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	params, _ := json.Marshal(map[string]any{"tps": tps})
	if _, err := sim.Faults.Add(faults.Spec{Type: "throttle", Params: params}); err != nil {
		t.Fatal(err)
	}
	op, _ := sim.Operator("op")
	return sim, op.Addr()
}

type outcome struct {
	sent, ok, throttled, other atomic.Int64
}

func (o *outcome) answered() int64 { return o.ok.Load() + o.throttled.Load() + o.other.Load() }

// send pushes n messages through binds transceiver binds sharing lim, for at
// most d, the way the connector will: Wait, then write one submit_sm; a
// submit_sm_resp of ESME_RTHROTTLED or ESME_RMSGQFUL calls lim.Throttled and
// puts the message back in the queue. It returns once every submit_sm sent
// has its answer.
func send(t testing.TB, addr string, lim *throttle.Limiter, binds, n int, d time.Duration) *outcome {
	t.Helper()
	var o outcome
	todo := make(chan struct{}, n)
	for range n {
		todo <- struct{}{}
	}
	allOK := make(chan struct{})
	var allOnce sync.Once
	var conns []*smpptest.Raw
	for range binds {
		c := smpptest.Dial(t, addr)
		if r := c.Bind(pdu.Transceiver, "test", "test"); r.CommandStatus != data.ESME_ROK {
			t.Fatalf("bind: %s", wire.StatusName(r.CommandStatus))
		}
		conns = append(conns, c)
	}
	// The clock starts once every bind is up: d is sending time only.
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	errs := make(chan error, 2*binds)
	var senders, readers sync.WaitGroup
	for _, c := range conns {
		// Encoded once; each send only patches the sequence number, so the
		// client spends its time waiting on the limiter, not in the encoder.
		submit := wire.Encode(smpptest.NewSubmit(t, "ACME", "447700900123", "throttle test", 0))
		senders.Add(1)
		go func() {
			defer senders.Done()
			var seq uint32 = 1000
			for {
				select {
				case <-todo:
				case <-allOK:
					return
				case <-ctx.Done():
					return
				}
				if err := lim.Wait(ctx); err != nil {
					return
				}
				seq++
				binary.BigEndian.PutUint32(submit[12:16], seq)
				o.sent.Add(1)
				if _, err := c.Conn.Write(submit); err != nil {
					errs <- fmt.Errorf("write: %w", err)
					return
				}
			}
		}()
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				p, err := c.Read(time.Minute)
				if err != nil {
					return // the test closes the connection when done
				}
				h := p.GetHeader()
				switch h.CommandID {
				case data.SUBMIT_SM_RESP:
					switch h.CommandStatus {
					case data.ESME_ROK:
						if o.ok.Add(1) == int64(n) {
							allOnce.Do(func() { close(allOK) })
						}
					case data.ESME_RTHROTTLED, data.ESME_RMSGQFUL:
						o.throttled.Add(1)
						lim.Throttled()
						todo <- struct{}{} // retry later: nothing is lost
					default:
						o.other.Add(1)
					}
				case data.GENERIC_NACK:
					o.other.Add(1)
				case data.ENQUIRE_LINK:
					_, _ = c.Conn.Write(wire.HeaderOnly(data.ENQUIRE_LINK_RESP, 0, h.SequenceNumber))
				}
			}
		}()
	}
	senders.Wait()
	smpptest.Eventually(t, 5*time.Second, 5*time.Millisecond, func() error {
		if a, s := o.answered(), o.sent.Load(); a < s {
			return fmt.Errorf("%d of %d submit_sm answered", a, s)
		}
		return nil
	})
	for _, c := range conns {
		c.Conn.Close()
	}
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return &o
}

// Zero breaches on the simulator's meter at 10, 100 and 1000 TPS, two binds
// sharing one limiter. How much of the contract the limiter uses is a figure,
// not a pass/fail: BenchmarkPacingAgainstSimulator reports it. 1000 TPS runs
// on its own (the simulator shares the test's CPUs); the rest run side by side.
func TestAgainstSimulatorZeroBreaches(t *testing.T) {
	t.Run("1000tps", func(t *testing.T) { checkPacing(t, 1000) })
	t.Run("slower", func(t *testing.T) {
		for _, tps := range []int{10, 100} {
			t.Run(fmt.Sprintf("%dtps", tps), func(t *testing.T) {
				t.Parallel()
				checkPacing(t, tps)
			})
		}
		// Configured at twice what the operator really allows: ESME_RTHROTTLED
		// slows the limiter down, every message is still accepted in the end
		// and the rejections stay few instead of half the traffic.
		t.Run("tps set too high converges and loses nothing", func(t *testing.T) {
			t.Parallel()
			const real, n = 100, 300
			_, addr := startSim(t, real)
			lim := throttle.New(2 * real)
			o := send(t, addr, lim, 2, n, 9*time.Second)
			s := lim.Stats()
			t.Logf("%d accepted, %d throttled, %d sent; limiter %+v", o.ok.Load(), o.throttled.Load(), o.sent.Load(), s)
			if o.ok.Load() != n || o.other.Load() != 0 {
				t.Fatalf("%d of %d accepted, %d other answers", o.ok.Load(), n, o.other.Load())
			}
			if th := o.throttled.Load(); th == 0 || th*10 > n || s.Decreases == 0 {
				t.Fatalf("%d throttled for %d messages, %d decreases", th, n, s.Decreases)
			}
		})
	})
}

// pacingRun is how long one pacing measurement offers a backlog of ten
// seconds' worth of messages.
const pacingRun = 3 * time.Second

// checkPacing fails on any breach the simulator's meter counts, on any
// refused submit_sm, and when the meter did not see exactly what was sent.
// The run must have carried traffic, every submit_sm answered, for the
// absence of breaches to mean anything.
func checkPacing(t *testing.T, tps int) {
	rep, o, lim := measurePacing(t, tps)
	t.Logf("%d TPS: %d arrivals in %v (%.1f%% of the contract), worst sliding second %d, breaches %d, limiter %+v",
		tps, rep.Arrivals, pacingRun, utilisation(rep.Arrivals, tps), rep.WorstSlidingWindow, rep.Breaches, lim.Stats())
	if rep.Breaches != 0 || rep.WorstSlidingWindow > tps {
		t.Errorf("meter saw breaches: %+v", rep)
	}
	if n := o.throttled.Load() + o.other.Load(); n != 0 {
		t.Errorf("%d submit_sm refused (%d throttled)", n, o.throttled.Load())
	}
	if rep.Arrivals != uint64(o.sent.Load()) {
		t.Errorf("meter counted %d arrivals, we sent %d", rep.Arrivals, o.sent.Load())
	}
	if rep.Arrivals == 0 || o.answered() != o.sent.Load() {
		t.Errorf("the run carried no complete traffic: %d arrivals, %d of %d answered", rep.Arrivals, o.answered(), o.sent.Load())
	}
}

// measurePacing offers a backlog to a fresh simulator contracted at tps
// through two binds sharing one limiter, and returns the meter's report.
func measurePacing(t testing.TB, tps int) (meter.Report, *outcome, *throttle.Limiter) {
	sim, addr := startSim(t, tps)
	lim := throttle.New(tps)
	o := send(t, addr, lim, 2, 10*tps*int(pacingRun/time.Second), pacingRun)
	rep, found := sim.Meter.Report("op/test", time.Now())
	if !found {
		t.Fatal("no meter report for op/test")
	}
	return rep, o, lim
}

func utilisation(arrivals uint64, tps int) float64 {
	return 100 * float64(arrivals) / (float64(tps) * pacingRun.Seconds())
}

// BenchmarkPacingAgainstSimulator measures how much of the contract the
// limiter uses with a saturated backlog (the bar is 97%, issue #12: the
// limiter paces at 98% and loses the rest to scheduling), and the worst
// sliding second the simulator's meter saw:
//
//	go test -run '^$' -bench PacingAgainstSimulator -benchtime 1x ./connector/throttle/
func BenchmarkPacingAgainstSimulator(b *testing.B) {
	for _, tps := range []int{100, 1000} {
		b.Run(fmt.Sprintf("%dtps", tps), func(b *testing.B) {
			var util, worst, breaches float64
			for range b.N {
				rep, _, _ := measurePacing(b, tps)
				util += utilisation(rep.Arrivals, tps)
				worst = max(worst, float64(rep.WorstSlidingWindow))
				breaches += float64(rep.Breaches)
			}
			b.ReportMetric(util/float64(b.N), "%contract")
			b.ReportMetric(worst, "worst-sliding-s")
			b.ReportMetric(breaches, "breaches")
		})
	}
}
