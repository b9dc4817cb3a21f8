package store_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/dlr"
	"github.com/smpp-connector/smpp-connector/connector/store"
)

// benchRows is how many rows the table holds before a benchmark writes
// (STORE_BENCH_ROWS overrides): lookups and plans as at steady state, not on
// a table that fits in a few pages.
func benchRows() int {
	if v, err := strconv.Atoi(os.Getenv("STORE_BENCH_ROWS")); err == nil {
		return v
	}
	return 1_000_000
}

// openBench opens a store on a fresh database filled with benchRows rows
// (not for the single-iteration warm-up run).
func openBench(b *testing.B, opts store.Options) *store.Store {
	b.Helper()
	dsn := env.FreshDatabase(b, true)
	if b.N > 1 {
		fill(b, dsn, benchRows())
	}
	s, err := store.Open(context.Background(), dsn, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	return s
}

// benchConcurrency is how many goroutines call the store at once (a
// connector with many operator sessions and a large JetStream batch).
const benchConcurrency = 100

// parallel runs fn(i) for i in [0, n) on benchConcurrency goroutines.
func parallel(b *testing.B, n int, fn func(i int) error) {
	b.Helper()
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		once sync.Once
		err  error
	)
	for range benchConcurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if e := fn(i); e != nil {
					once.Do(func() { err = e })
					return
				}
			}
		})
	}
	wg.Wait()
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRecordOutcome stores b.N accepted outcomes (parts prepared
// beforehand) from 100 goroutines.
func BenchmarkRecordOutcome(b *testing.B) {
	s := openBench(b, store.Options{PlanCacheMode: os.Getenv("STORE_BENCH_PLAN_CACHE_MODE")})
	ctx := context.Background()
	parallel(b, b.N, func(i int) error {
		_, err := s.PrepareParts(ctx, store.MessageRef{OperatorID: "mno-a", MessageID: fmt.Sprint("m", i), PartCount: 1},
			[]store.PartRef{{Number: 1}})
		return err
	})
	before := s.Stats()
	b.ResetTimer()
	start := time.Now()
	parallel(b, b.N, func(i int) error {
		_, err := s.RecordOutcome(ctx, store.Outcome{OperatorID: "mno-a", MessageID: fmt.Sprint("m", i), Part: 1,
			Kind: store.Accepted, SMSCMessageID: fmt.Sprintf("%08x", i), SMSCKey: fmt.Sprint(i), SequenceNumber: uint32(i + 1)})
		return err
	})
	b.StopTimer()
	after := s.Stats()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "outcomes/s")
	if batches := after.Batches - before.Batches; batches > 0 {
		b.ReportMetric(float64(b.N)/float64(batches), "rows/batch")
	}
}

// BenchmarkMessageLifecycle is the end-to-end figure: b.N two-part
// messages, 100 in flight. Each is prepared (PrepareParts), then its parts
// go on at once, as the submit window allows: RecordOutcome (accepted), then
// MatchReceipt; for every tenth message the receipts arrive before the
// responses and are held, then matched by RecordOutcome.
func BenchmarkMessageLifecycle(b *testing.B) {
	s := openBench(b, store.Options{PlanCacheMode: os.Getenv("STORE_BENCH_PLAN_CACHE_MODE")})
	ctx := context.Background()
	before := s.Stats()
	b.ResetTimer()
	start := time.Now()
	parallel(b, b.N, func(i int) error {
		msg := fmt.Sprint("m", i)
		states, err := s.PrepareParts(ctx, store.MessageRef{OperatorID: "mno-a", MessageID: msg, PartCount: 2},
			[]store.PartRef{{Number: 1}, {Number: 2}})
		if err != nil {
			return err
		}
		early := i%10 == 0
		errs := make(chan error, len(states))
		for _, st := range states {
			go func() { errs <- lifecycle(ctx, s, msg, st.Part, early) }()
		}
		for range states {
			if e := <-errs; e != nil {
				err = e
			}
		}
		return err
	})
	b.StopTimer()
	elapsed := time.Since(start).Seconds()
	st := s.Stats()
	requests, batches := st.Requests-before.Requests, st.Batches-before.Batches
	b.ReportMetric(float64(b.N)/elapsed, "msgs/s")
	b.ReportMetric(float64(2*b.N)/elapsed, "parts/s")
	b.ReportMetric(float64(requests)/elapsed, "writes/s")
	if batches > 0 {
		b.ReportMetric(float64(requests)/float64(batches), "rows/batch")
		b.ReportMetric(float64((st.FlushTime-before.FlushTime).Microseconds())/float64(batches), "µs/batch")
	}
}

// benchEpoch is the id epoch of the benchmarks' receipts: every part is
// answered after it.
var benchEpoch = time.Now()

// lifecycle records a part's outcome and its receipt, the receipt first
// when early.
func lifecycle(ctx context.Context, s *store.Store, msg string, part int, early bool) error {
	key := fmt.Sprintf("%s-%d", msg, part)
	receipt := func() error {
		// With epoch bounds, as connector/inbound sends every receipt.
		now := time.Now()
		m, err := s.MatchReceipt(ctx, store.Receipt{OperatorID: "mno-a", SMSCKey: key,
			Status: dlr.Delivered, Stat: "DELIVRD", Err: "000", Done: now, Received: now,
			NotBefore: benchEpoch, Horizon: now.Add(-72 * time.Hour), HoldFor: 30 * time.Second})
		if err == nil && m.Disposition != store.Applied && (!early || m.Disposition != store.Held) {
			err = fmt.Errorf("%s: receipt %s", key, m.Disposition)
		}
		return err
	}
	if early {
		if err := receipt(); err != nil {
			return err
		}
	}
	res, err := s.RecordOutcome(ctx, store.Outcome{OperatorID: "mno-a", MessageID: msg, Part: part,
		Kind: store.Accepted, SMSCKey: key, SequenceNumber: uint32(part)})
	if err != nil {
		return err
	}
	if early {
		if len(res.Receipts) != 1 || res.Receipts[0].Matched.Disposition != store.Applied {
			return fmt.Errorf("%s: held receipt not matched: %+v", key, res.Receipts)
		}
		return nil
	}
	return receipt()
}
