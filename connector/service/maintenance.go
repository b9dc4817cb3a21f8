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

// maintain expires receipts that never matched (counted and logged with
// their ids) and segmented MO that never completed, and purges correlation
// rows past the retention, every interval.
// Several replicas may run it: both statements are idempotent.
func maintain(ctx context.Context, st *store.Store, m *metrics.Metrics, every, unmatchedAfter, retention time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		expired, err := st.ExpirePendingReceipts(ctx, unmatchedAfter)
		if err != nil {
			log.Warn("expiring unmatched receipts", "err", err)
		}
		for _, h := range expired {
			m.Receipts.WithLabelValues(h.Receipt.OperatorID, "unmatched").Inc()
			log.Warn("receipt never matched a submit", "operator", h.Receipt.OperatorID, "id", h.Receipt.RawID,
				"key", h.Receipt.SMSCKey, "stat", h.Receipt.Stat, "held_since", h.HeldAt)
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
