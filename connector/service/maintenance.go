package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/metrics"
	"github.com/smpp-connector/smpp-connector/connector/store"
)

// Maintenance settings (Options): how long a receipt may wait for its
// submit_sm_resp before it is counted as unmatched, and how long correlation
// rows are kept.
const (
	DefaultUnmatchedAfter = time.Hour
	DefaultRetention      = 30 * 24 * time.Hour
	// DefaultIncompleteMOAfter is how long the parts of a segmented MO wait
	// for the rest (SMSCs send a message's parts within seconds or minutes).
	DefaultIncompleteMOAfter = time.Hour
)

// sweepEvery is how often the receipts held by their id epoch are looked
// at (store.SweepHeldReceipts): their hold is 30 s or more, so a receipt
// waits at most a few seconds more than its hold.
const sweepEvery = 5 * time.Second

// maintain expires receipts that never matched (counted and logged with
// their ids) and segmented MO that never completed, and purges correlation
// rows past the retention, every interval; more often, it attributes the
// receipts held by their id epoch that no newer part claimed to the parts
// that hold their ids (sweepHeld).
// Several replicas may run it: every statement is idempotent.
func maintain(ctx context.Context, st *store.Store, m *metrics.Metrics, every, unmatchedAfter, retention time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	sweep := time.NewTicker(min(every, sweepEvery))
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sweep.C:
			sweepHeld(ctx, st, m, log)
			continue
		case <-t.C:
		}
		// Before expiring: a receipt swept is not unmatched.
		sweepHeld(ctx, st, m, log)
		expired, err := st.ExpirePendingReceipts(ctx, unmatchedAfter)
		if err != nil {
			log.Warn("expiring unmatched receipts", "err", err)
		}
		for _, h := range expired {
			m.Receipts.WithLabelValues(h.Receipt.OperatorID, "unmatched").Inc()
			log.Warn("receipt never matched a submit", "operator", h.Receipt.OperatorID, "id", h.Receipt.RawID,
				"key", h.Receipt.SMSCKey, "stat", h.Receipt.Stat, "held_since", h.HeldAt, "kept_in", "smpp.unmatched_receipts")
		}
		incomplete, err := st.ExpireMOParts(ctx, DefaultIncompleteMOAfter)
		if err != nil {
			log.Warn("expiring incomplete MO", "err", err)
		}
		for k, parts := range incomplete {
			m.MOIncomplete.WithLabelValues(k.OperatorID).Inc()
			log.Warn("MO message never completed: its parts are dropped", "operator", k.OperatorID, "from", k.Source,
				"to", k.Destination, "ref", k.Ref, "parts_received", parts, "parts", k.Total)
		}
		if n, err := st.Purge(ctx, retention, 0); err != nil {
			log.Warn("purging old correlations", "err", err)
		} else if n > 0 {
			log.Info("purged old correlations", "rows", n, "older_than", retention)
		}
	}
}

// sweepHeld applies the receipts held since the binds came back (their id
// was held by a part from before the id epoch) for which no newer part took
// the id within the hold: the binds had dropped for a network cut, the SMSC
// had not restarted, and the receipts are the older parts' (within the
// operator's receipt horizon). Their events are in the outbox.
func sweepHeld(ctx context.Context, st *store.Store, m *metrics.Metrics, log *slog.Logger) {
	swept, err := st.SweepHeldReceipts(ctx)
	if err != nil && ctx.Err() == nil {
		log.Warn("matching held receipts to the parts sent before the binds came back", "err", err)
	}
	byOp := map[string]int{}
	for _, h := range swept {
		m.Receipts.WithLabelValues(h.Receipt.OperatorID, "late_matched").Inc()
		if h.Matched.Disposition == store.Applied && !h.Matched.SubmittedAt.IsZero() {
			m.ReceiptLatency.WithLabelValues(h.Receipt.OperatorID).Observe(h.Receipt.Received.Sub(h.Matched.SubmittedAt).Seconds())
		}
		byOp[h.Receipt.OperatorID]++
	}
	for op, n := range byOp {
		log.Info("receipts held after the binds came back matched parts sent before: no newer message took their ids (a network cut, not an SMSC restart)",
			"operator", op, "receipts", n)
	}
}
