-- +goose NO TRANSACTION
-- +goose Up
-- Fewer index writes per message on the busiest table (connector/store;
-- issue "Ahead of Kannel"). Every part's row is inserted (prepare), updated
-- with its outcome (not a HOT update: smsc_key changes) and updated with its
-- receipt; each index entry written is a B-tree descent, a page lock and a
-- WAL record (pg_stat_statements' wal_records per statement measured them).
-- This migration builds and drops indexes without blocking writes
-- (CONCURRENTLY, hence no transaction: replicas keep sending while a
-- starting one migrates); 00014 swaps the constraint, briefly locked.
--
-- 1. The canonical-key index holds only accepted parts. As a UNIQUE
--    constraint it also held an entry for the NULL key of every row the
--    prepare inserted, which no lookup reads (receipts match on an equal
--    key, which a NULL never is). A partial unique index keeps the same
--    rule for the rows that have a key; 00014 gives it the constraint's
--    name (connector/store recognises its violations by the name's
--    prefix). A build that fails leaves an INVALID index: drop it by hand
--    before migrating again (IF NOT EXISTS would keep it).
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS message_correlations_operator_smsc_canonical_key_partial
    ON smpp.message_correlations (smsc_key, operator_id) WHERE smsc_key IS NOT NULL;

-- 2. The partial index of unfinished rows (00001) took an entry for every
--    row the prepare inserted (all are pending then), and no statement of
--    the connector reads it: a pending part is found by its message
--    (PrepareParts, HandBack), a timed-out one is answered by its handler.
--    An engineer's query for an operator's pending rows scans the table;
--    rows stay pending only while a command is unacknowledged.
DROP INDEX CONCURRENTLY IF EXISTS smpp.message_correlations_unfinished_idx;

-- +goose Down
CREATE INDEX CONCURRENTLY IF NOT EXISTS message_correlations_unfinished_idx
    ON smpp.message_correlations (operator_id, submitted_at)
    WHERE submit_status IN ('pending', 'unknown');
DROP INDEX CONCURRENTLY IF EXISTS smpp.message_correlations_operator_smsc_canonical_key_partial;
