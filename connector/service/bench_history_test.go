package service

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/migrations"
)

// envBenchHistory is how many messages of earlier days message_correlations
// holds when the benchmark starts (default benchHistoryRows; 0: an empty
// table, a new deployment's first minutes).
const envBenchHistory = "SMPP_BENCH_HISTORY"

// benchHistoryRows is a few minutes of traffic at the benchmark's rate: a
// deployment in service keeps its retention's worth (DefaultRetention, 30
// days: millions of rows). It is above store.GenericPlanRows, so the
// store's sessions reuse generic plans as they do in service; with an empty
// table they plan every statement, which is a new deployment's cost and
// not the one compared.
const benchHistoryRows = 200_000

// seedHistory migrates the database and fills message_correlations with
// benchHistoryRows one-part messages accepted and delivered over the past
// day (their SMSC ids apart from the simulator's), then VACUUM ANALYZE, as
// autovacuum leaves a table in service. The database's statistics counters
// are reset afterwards, so that the per-message table counts are the run's.
func seedHistory(b testing.TB, dsn string) {
	rows := benchHistoryRows
	if v := os.Getenv(envBenchHistory); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			b.Fatalf("%s=%q: want a number of rows (0 for none)", envBenchHistory, v)
		}
		rows = n
	}
	if rows == 0 {
		return
	}
	ctx, c, done := dbConn(b, dsn)
	defer done()
	start := time.Now()
	if _, err := migrations.Apply(ctx, dsn); err != nil {
		b.Fatal(err)
	}
	_, err := c.Exec(ctx, `
INSERT INTO smpp.message_correlations (operator_id, message_id, part_number, part_count,
	smsc_message_id, smsc_key, sequence_number, submit_status, command_status,
	submitted_at, resp_at, receipt_state, receipt_at, created_at)
SELECT 'mno-a', 'history-' || g, 1, 1, 'history-' || g, 'history-' || g, g, 'accepted', 0,
	ts, ts, 'DELIVERED', ts, ts
FROM generate_series(1, $1::int) AS g, LATERAL (SELECT now() - interval '1 day' + make_interval(secs => g * 0.4) AS ts) AS x`, rows)
	if err == nil {
		_, err = c.Exec(ctx, "VACUUM (ANALYZE, PARALLEL 0) smpp.message_correlations")
	}
	if err == nil {
		_, err = c.Exec(ctx, "SELECT pg_stat_reset()")
	}
	if err != nil {
		b.Fatalf("seed %d rows of history: %v", rows, err)
	}
	b.Logf("%d rows of history in %s (%s)", rows, time.Since(start).Round(time.Millisecond), envBenchHistory)
}
