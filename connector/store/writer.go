package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// request is one PrepareParts, RecordOutcome or MatchReceipt call waiting
// for the writer.
type request struct {
	prepare *prepareRequest // exactly one of prepare, outcome, receipt and sweep
	outcome *Outcome
	receipt *Receipt
	sweep   *sweepRequest // SweepHeldReceipts: written alone, not through the queue
	res     chan response // buffered: the writer never blocks on it
}

type response struct {
	parts []PartState
	// fingerprints are the parts' stored content fingerprints (prepare).
	fingerprints [][]byte
	outcome      OutcomeResult
	matched      Matched
	err          error
}

// RecordOutcome stores a part's submit outcome and returns once it is
// durable (committed). An accepted outcome also applies the receipts held
// for its SMSC key, returned in the result. Calling it again with the same
// outcome is harmless. When ctx ends first the outcome may or may not have
// been stored: retry it.
func (s *Store) RecordOutcome(ctx context.Context, o Outcome) (OutcomeResult, error) {
	if err := o.normalise(); err != nil {
		return OutcomeResult{}, err
	}
	r, err := s.submit(ctx, &request{outcome: &o})
	return r.outcome, err
}

// MatchReceipt correlates a receipt with its part and updates the part's
// receipt state (see the package doc for the rules), or holds it when no
// part has its key yet. It returns once that is durable.
func (s *Store) MatchReceipt(ctx context.Context, rc Receipt) (Matched, error) {
	if err := rc.normalise(); err != nil {
		return Matched{}, err
	}
	r, err := s.submit(ctx, &request{receipt: &rc})
	return r.matched, err
}

func (s *Store) submit(ctx context.Context, req *request) (response, error) {
	if err := s.enqueue(ctx, req); err != nil {
		return response{}, err
	}
	select {
	case r := <-req.res:
		return r, r.err
	case <-ctx.Done():
		return response{}, ctx.Err()
	}
}

// enqueue hands a request to the writer; its result comes on req.res.
func (s *Store) enqueue(ctx context.Context, req *request) error {
	req.res = make(chan response, 1)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	select {
	case s.queue <- req:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// collect gathers requests into batches: up to BatchSize, or what arrived
// within Linger of the batch's first request.
func (s *Store) collect() {
	defer s.done.Done()
	defer close(s.batches)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		first, ok := <-s.queue
		if !ok {
			return
		}
		batch := make([]*request, 1, s.opts.BatchSize)
		batch[0] = first
		closed := false
		if s.opts.Linger > 0 {
			timer.Reset(s.opts.Linger)
		}
	fill:
		for len(batch) < s.opts.BatchSize {
			if s.opts.Linger <= 0 {
				select {
				case r, ok := <-s.queue:
					if !ok {
						closed = true
						break fill
					}
					batch = append(batch, r)
				default:
					break fill
				}
				continue
			}
			select {
			case r, ok := <-s.queue:
				if !ok {
					closed = true
					break fill
				}
				batch = append(batch, r)
			case <-timer.C:
				break fill
			}
		}
		if s.opts.Linger > 0 && !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		s.batches <- batch
		if closed {
			return
		}
	}
}

func (s *Store) flusher() {
	defer s.done.Done()
	for batch := range s.batches {
		for len(batch) > 0 {
			var now []*request
			now, batch = splitBatch(batch)
			s.write(now)
		}
	}
}

// splitBatch returns the requests that can share a transaction, and the
// rest: two prepares of the same message, two outcomes for the same part, or
// two accepted outcomes with the same SMSC key go to separate transactions,
// in order.
func splitBatch(batch []*request) (now, later []*request) {
	type partKey struct {
		msg  string
		part int
	}
	type smscKey struct{ op, key string }
	var (
		msgs  = map[string]bool{}
		parts = map[partKey]bool{}
		keys  = map[smscKey]bool{}
	)
	for _, r := range batch {
		switch {
		case r.prepare != nil:
			if msgs[r.prepare.msg.MessageID] {
				later = append(later, r)
				continue
			}
			msgs[r.prepare.msg.MessageID] = true
		case r.outcome != nil:
			o := r.outcome
			pk := partKey{o.MessageID, o.Part}
			sk := smscKey{o.OperatorID, o.SMSCKey}
			if parts[pk] || (o.Kind == Accepted && keys[sk]) {
				later = append(later, r)
				continue
			}
			parts[pk] = true
			if o.Kind == Accepted {
				keys[sk] = true
			}
		}
		now = append(now, r)
	}
	return now, later
}

// write writes a batch and answers every request: retrying transient
// failures, and isolating a request that fails the batch by writing the
// batch's requests one by one (all within one FlushTimeout).
func (s *Store) write(batch []*request) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.FlushTimeout)
	defer cancel()
	s.writeIn(ctx, batch)
}

func (s *Store) writeIn(ctx context.Context, batch []*request) {
	res, err := s.writeRetrying(ctx, batch)
	if err != nil && len(batch) > 1 && ctx.Err() == nil {
		s.stats.isolated.Add(1)
		s.log.Warn("store: batch failed, writing its requests one by one", "requests", len(batch), "error", err)
		for _, r := range batch {
			s.writeIn(ctx, []*request{r})
		}
		return
	}
	for i, r := range batch {
		if err != nil {
			r.res <- response{err: fmt.Errorf("store: write: %w", err)}
			continue
		}
		r.res <- res[i]
	}
}

func (s *Store) writeRetrying(ctx context.Context, batch []*request) ([]response, error) {
	backoff := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		start := time.Now()
		res, err := s.flush(ctx, batch)
		s.stats.flushNanos.Add(int64(time.Since(start)))
		if err == nil {
			s.stats.batches.Add(1)
			s.stats.requests.Add(int64(len(batch)))
			return res, nil
		}
		if !isTransient(err) || attempt == 5 || ctx.Err() != nil {
			return nil, err
		}
		s.stats.retries.Add(1)
		s.log.Warn("store: retrying batch", "attempt", attempt, "requests", len(batch), "error", err)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil, err
		}
		backoff *= 2
	}
}

// isTransient reports errors after which the same transaction may succeed:
// deadlocks, serialization failures, lost connections.
func isTransient(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300":
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08")
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	// A connection lost mid-batch. (Lost during COMMIT, the batch may have
	// committed: written again, outcomes are no-ops and receipts come back
	// as duplicates.)
	var netErr net.Error
	return pgconn.SafeToRetry(err) || errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
