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
	s := openBench(b, store.Options{Flushers: 8})
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

// BenchmarkMessageLifecycle is the end-to-end figure: for each of b.N
// two-part messages (every tenth with its receipts arriving before the
// responses) PrepareParts, then RecordOutcome and MatchReceipt per part,
// from 100 goroutines.
func BenchmarkMessageLifecycle(b *testing.B) {
	s := openBench(b, store.Options{Flushers: 8})
	ctx := context.Background()
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
		receipt := func(part int) error {
			m, err := s.MatchReceipt(ctx, store.Receipt{OperatorID: "mno-a", SMSCKey: fmt.Sprintf("%d-%d", i, part),
				Status: store.ReceiptDelivered, Stat: "DELIVRD", Err: "000", Done: time.Now()})
			if err == nil && m.Disposition != store.Applied && (!early || m.Disposition != store.Held) {
				err = fmt.Errorf("%s part %d: %s", msg, part, m.Disposition)
			}
			return err
		}
		for _, st := range states {
			if early {
				if err := receipt(st.Part); err != nil {
					return err
				}
			}
			res, err := s.RecordOutcome(ctx, store.Outcome{OperatorID: "mno-a", MessageID: msg, Part: st.Part,
				Kind: store.Accepted, SMSCKey: fmt.Sprintf("%d-%d", i, st.Part)})
			if err != nil {
				return err
			}
			if early && len(res.Receipts) != 1 {
				return fmt.Errorf("%s part %d: held receipt not matched", msg, st.Part)
			}
			if !early {
				if err := receipt(st.Part); err != nil {
					return err
				}
			}
		}
		return nil
	})
	b.StopTimer()
	elapsed := time.Since(start).Seconds()
	st := s.Stats()
	b.ReportMetric(float64(b.N)/elapsed, "msgs/s")
	fmt.Fprintln(os.Stderr, "DEBUG", b.N, "\n"+store.DebugTimes.String())
	b.ReportMetric(float64(st.Requests)/elapsed, "writes/s")
	if st.Batches > 0 {
		b.ReportMetric(float64(st.Requests)/float64(st.Batches), "rows/batch")
		b.ReportMetric(float64(st.FlushTime.Microseconds())/float64(st.Batches), "µs/batch")
	}
}
