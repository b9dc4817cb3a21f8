package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smpp-connector/smpp-connector/connector/store"
)

// planRows is the size of the table the plans are checked on.
const planRows = 1_000_000

// TestQueryPlansUseIndexes fills message_correlations with a million rows
// (generate_series) and checks that no statement of the store scans the
// whole table, with custom plans (the store's sessions plan every
// statement until the table is big: store.GenericPlanRows) and with the
// generic plans PostgreSQL caches under plan_cache_mode = auto once it is.
// go test -v prints the plans.
func TestQueryPlansUseIndexes(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a table with a million rows")
	}
	dsn := env.FreshDatabase(t, true)
	c := connect(t, dsn)
	start := time.Now()
	fill(t, dsn, planRows)
	t.Logf("%d rows in %s", planRows, time.Since(start).Round(time.Millisecond))

	checkPlans(t, c, planCases(), "custom", "generic")
}

// checkPlans explains each case in each mode ("custom" or "generic") on c
// and fails the test for a plan that scans a big table whole or misses an
// index the case names. Custom plans: planned with the values, as for the
// first executions of a prepared statement. Generic plans: EXPLAIN EXECUTE
// of the prepared statement with plan_cache_mode forcing the plan
// PostgreSQL may switch to after five executions.
func checkPlans(t *testing.T, c *pgx.Conn, cases []planCase, modes ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, mode := range modes {
		_, err := c.Exec(ctx, "SET plan_cache_mode = force_"+mode+"_plan")
		ok(t, err)
		for _, tc := range cases {
			query := "EXPLAIN " + store.Queries[tc.name]
			if mode == "generic" {
				name := "plan_" + strings.ToLower(tc.name)
				_, _ = c.Exec(ctx, "DEALLOCATE "+name) // if an earlier call prepared it
				sd, err := c.Prepare(ctx, name, store.Queries[tc.name])
				ok(t, err)
				// EXECUTE takes values, not parameters: spell them as literals.
				params := make([]string, len(tc.args))
				for i, oid := range sd.ParamOIDs {
					var typ, lit string
					ok(t, c.QueryRow(ctx, "SELECT format_type($1, NULL)", oid).Scan(&typ))
					ok(t, c.QueryRow(ctx, "SELECT quote_literal($1::"+typ+")", tc.args[i]).Scan(&lit))
					params[i] = lit + "::" + typ
				}
				query = "EXPLAIN EXECUTE " + name + "(" + strings.Join(params, ", ") + ")"
			}
			var args []any
			if mode == "custom" {
				args = tc.args
			}
			rows, err := c.Query(ctx, query, args...)
			ok(t, err)
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			plan := strings.Join(lines, "\n")
			t.Logf("%s (%s plan):\n%s", tc.name, mode, plan)
			if strings.Contains(plan, "Seq Scan on message_correlations") || strings.Contains(plan, "Seq Scan on receipt_inbox") ||
				strings.Contains(plan, "Seq Scan on unmatched_receipts") {
				t.Errorf("%s (%s plan) scans the whole table", tc.name, mode)
			}
			for _, idx := range tc.index {
				if !strings.Contains(plan, idx) {
					t.Errorf("%s (%s plan) does not use %s", tc.name, mode, idx)
				}
			}
		}
	}
}

// smallTableRows is the size of message_correlations in a new deployment's
// first hours (the end-to-end benchmark starts on 200,000: SMPP_BENCH_HISTORY).
const smallTableRows = 10_000

// TestQueryPlansUseIndexesOnASmallTable checks the statements of a
// message's life on the store's own sessions with a table of
// smallTableRows: with PostgreSQL's default random_page_cost the planner
// scanned the whole table for every batch below about 20,000 rows (store's
// DefaultRandomPageCost says why), which took most of PostgreSQL's time in
// a 20,000-message benchmark.
func TestQueryPlansUseIndexesOnASmallTable(t *testing.T) {
	if testing.Short() {
		t.Skip("fills tables with 300,000 rows")
	}
	dsn := env.FreshDatabase(t, true)
	fill(t, dsn, smallTableRows)
	s, err := store.Open(ctxT(t), dsn, store.Options{})
	ok(t, err)
	t.Cleanup(s.Close)
	hot := map[string]bool{"prepare": true, "prepareSelect": true, "steal": true, "outcome": true,
		"held": true, "lookup": true, "siblings": true, "receiptUpdate": true}
	checked := 0
	for _, tc := range planCases() {
		if !hot[tc.name] {
			continue
		}
		checked++
		lines, err := s.Explain(ctxT(t), store.Queries[tc.name], tc.args...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		plan := strings.Join(lines, "\n")
		t.Logf("%s:\n%s", tc.name, plan)
		if strings.Contains(plan, "Seq Scan on message_correlations") {
			t.Errorf("%s scans the whole table of %d rows", tc.name, smallTableRows)
		}
	}
	if checked != len(hot) {
		t.Fatalf("checked %d statements of %d: a case was renamed", checked, len(hot))
	}
}

// fill adds rows to message_correlations as a busy connector leaves them
// (generate_series): two-part messages of five operators, 1% pending, 1%
// unknown, 3% rejected, the rest accepted and 80% of those with a receipt,
// one created a second until now; 2000 held receipts (half of them held by
// their epoch bound, their hold passed); 100,000 unmatched receipts. Then
// VACUUM ANALYZE.
func fill(t testing.TB, dsn string, rows int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := connect(t, dsn)
	_, err := c.Exec(ctx, `
INSERT INTO smpp.message_correlations (operator_id, message_id, part_number, part_count,
	smsc_message_id, smsc_key, sequence_number, submit_status, command_status,
	submitted_at, resp_at, receipt_state, receipt_at, created_at)
SELECT 'mno-' || (g % 5), 'msg-' || (g / 2), g % 2 + 1, 2,
	CASE WHEN s = 'accepted' THEN to_hex(g) END, CASE WHEN s = 'accepted' THEN g::text END,
	g % 2147483647, s, CASE WHEN s = 'rejected' THEN 88 WHEN s = 'accepted' THEN 0 END,
	ts, CASE WHEN s IN ('accepted', 'rejected') THEN ts END,
	CASE WHEN s = 'accepted' AND g % 5 <> 0 THEN 'DELIVERED' END,
	CASE WHEN s = 'accepted' AND g % 5 <> 0 THEN ts END, ts
FROM generate_series(1, $1::int) AS g,
	LATERAL (SELECT CASE WHEN g % 100 = 0 THEN 'pending' WHEN g % 100 = 1 THEN 'unknown'
		WHEN g % 100 < 5 THEN 'rejected' ELSE 'accepted' END AS s,
		now() - make_interval(secs => $1::int - g) AS ts) AS x`, rows)
	ok(t, err)
	_, err = c.Exec(ctx, `
INSERT INTO smpp.pending_receipts (operator_id, smsc_key, smsc_message_id, receipt_state, received_at, created_at,
	not_before, horizon, hold_until)
SELECT 'mno-1', 'early-' || g, 'early-' || g, 'DELIVERED', now(), now() - make_interval(secs => g),
	e.nb, e.nb - interval '72 hours', e.nb + interval '30 seconds'
FROM generate_series(1, 2000) AS g,
	LATERAL (SELECT CASE WHEN g % 2 = 0 THEN now() - make_interval(secs => g) END AS nb) AS e`)
	ok(t, err)
	_, err = c.Exec(ctx, `
INSERT INTO smpp.event_outbox (kind, operator_id, message_id, part_number, part_count, status, at)
SELECT 'outcome', 'mno-1', 'msg-' || g, 1, 1, 'accepted', now()
FROM generate_series(1, 100000) AS g`)
	ok(t, err)
	_, err = c.Exec(ctx, `
INSERT INTO smpp.receipt_inbox (operator_id, smsc_key, smsc_message_id, receipt_state, received_at, raw, failed)
SELECT 'mno-1', g::text, to_hex(g), 'DELIVERED', now(), convert_to('id:' || g, 'UTF8'), CASE WHEN g % 101 = 0 THEN 'set aside' END
FROM generate_series(1, 101000) AS g`)
	ok(t, err)
	_, err = c.Exec(ctx, `
INSERT INTO smpp.unmatched_receipts (operator_id, reason, smsc_key, smsc_message_id, receipt_state, raw, received_at,
	matched_at)
SELECT 'mno-' || (g % 5), CASE WHEN g % 10 = 0 THEN 'unparseable' ELSE 'no_part' END,
	CASE WHEN g % 10 <> 0 THEN 'lost-' || g END, CASE WHEN g % 10 <> 0 THEN 'lost-' || g END, 'DELIVERED',
	convert_to('id:lost-' || g, 'UTF8'), now() - make_interval(secs => g * 30),
	CASE WHEN g % 7 = 0 THEN now() END
FROM generate_series(1, 100000) AS g`)
	ok(t, err)
	for _, table := range []string{"message_correlations", "pending_receipts", "event_outbox", "receipt_inbox", "unmatched_receipts"} {
		// Not in parallel: a parallel vacuum's shared memory for a million
		// rows outgrows the container's 64 MB /dev/shm.
		_, err = c.Exec(ctx, "VACUUM (ANALYZE, PARALLEL 0) smpp."+table)
		ok(t, err)
	}
}

// planCase is a store statement, its arguments, and the indexes its plan must use.
type planCase struct {
	name  string
	args  []any
	index []string
}

// planCases are the store's statements with a batch of arguments that
// match rows fill wrote.
func planCases() []planCase {
	const n = store.DefaultBatchSize
	var (
		ops, keys, raws, msgs, kinds []string
		parts                        []int16
		ords, seqs                   []int32
		ids                          []int64
		ats                          []time.Time
		changed                      []bool
		counts                       []int32
	)
	for i := range n {
		g := 1000 + 3917*i
		ops, keys, raws = append(ops, fmt.Sprintf("mno-%d", g%5)), append(keys, fmt.Sprint(g)), append(raws, fmt.Sprintf("%x", g))
		msgs, parts, kinds = append(msgs, fmt.Sprintf("msg-%d", g/2)), append(parts, int16(g%2+1)), append(kinds, "accepted")
		ords, seqs, ids = append(ords, int32(i)), append(seqs, int32(i)), append(ids, int64(g))
		ats, changed, counts = append(ats, time.Now()), append(changed, true), append(counts, 1)
	}
	states := make([]string, n)
	for i := range states {
		states[i] = "DELIVERED"
	}
	return []planCase{
		{"prepare", []any{ops, msgs, parts, parts, seqs, make([][]byte, len(ops))}, []string{"message_correlations_message_part_key"}},
		{"prepareSelect", []any{msgs, parts}, []string{"message_correlations_message_part_key"}},
		{"steal", []any{ops, keys, msgs, parts},
			[]string{"message_correlations_operator_smsc_canonical_key", "message_correlations_message_part_key"}},
		{"outcome", []any{ords, ops, msgs, parts, kinds, raws, keys, seqs, seqs, ats, ats, kinds, false},
			[]string{"message_correlations_message_part_key"}},
		{"held", []any{ops, keys}, []string{"message_correlations_operator_smsc_canonical_key"}},
		{"lookup", []any{ops, keys, ats, ats}, []string{"message_correlations_operator_smsc_canonical_key"}},
		// A receipt held after an SMSC restart: its candidate by key, or by
		// the key a newer part took from it (displaced_key).
		{"hold", []any{"mno-1", "4917", "4917", "DELIVERED", "DELIVRD", "000", time.Now(), time.Now(), []byte("id:4917"),
			time.Now(), time.Now().Add(-72 * time.Hour), 30.0},
			[]string{"message_correlations_operator_smsc_canonical_key", "message_correlations_displaced_key"}},
		{"siblings", []any{msgs[:50]}, []string{"message_correlations_message_part_key"}},
		{"receiptUpdate", []any{ids, changed, states, states, states, ats, ats, counts}, []string{"message_correlations_pkey"}},
		{"expire", []any{600.0, false}, nil},
		// The sweep of receipts held by their epoch bound: the held ones whose
		// hold has passed (a scan of the small pending_receipts), their
		// candidate parts by id.
		{"sweepCandidates", []any{500}, []string{"message_correlations_pkey"}},
		{"sweep", []any{ops, keys}, []string{"message_correlations_pkey"}},
		// An outbox of 100,000 events (NATS down for a minute at full rate):
		// the relay reads the oldest through the primary key, not a sort.
		{"outboxSelect", []any{500, false, int32(1), int64(0)}, []string{"event_outbox_pkey"}},
		// ... and above its cursor, half way through.
		{"outboxSelectAbove", []any{500, false, int32(1), int64(50_000)}, []string{"event_outbox_pkey"}},
		{"purge", []any{time.Now().Add(-30 * 24 * time.Hour), 5000}, []string{"message_correlations_created_at_brin"}},
		// An inbox of 100,000 receipts (the database slow for a minute at
		// full rate) and 1,000 set aside: the drain reads the oldest
		// through the primary key, the claim deletes by it.
		{"drain", []any{1024, false, int64(0)}, []string{"receipt_inbox_pkey"}},
		{"drainAbove", []any{1024, false, int64(50_000)}, []string{"receipt_inbox_pkey"}},
		{"claim", []any{ids[:256]}, []string{"receipt_inbox_pkey"}},
		// 100,000 unmatched receipts (a month of a broken operator): a
		// set-aside inbox row is moved by its id; the re-match walks one
		// operator's no_part rows not matched yet and finds their parts by
		// key (or the key a newer part took); retention by age.
		{"setAside", []any{int64(5), "ERROR: check constraint"}, []string{"receipt_inbox_pkey"}},
		// (Through the partial index unmatched_receipts_rematch when an
		// operator's rows not matched are few; here a fifth of the table,
		// PostgreSQL walks the primary key in order, as cheap.)
		{"rematch", []any{"mno-1", 500, false, 30.0},
			[]string{"message_correlations_operator_smsc_canonical_key", "message_correlations_displaced_key"}},
		{"purgeUnmatched", []any{time.Now().Add(-30 * 24 * time.Hour), 5000}, []string{"unmatched_receipts_received_at"}},
	}
}
