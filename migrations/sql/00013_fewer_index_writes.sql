-- +goose Up
-- Fewer index writes per message on the busiest table (connector/store;
-- issue "Ahead of Kannel"). Every part's row is inserted (prepare), updated
-- with its outcome (not a HOT update: smsc_key changes) and updated with its
-- receipt; each index entry written is a B-tree descent, a page lock and a
-- WAL record (pg_stat_statements' wal_records per statement measured them).
--
-- 1. The canonical-key index holds only accepted parts. As a UNIQUE
--    constraint it also held an entry for the NULL key of every row the
--    prepare inserted, which no lookup reads (receipts match on an equal
--    key, which a NULL never is). A partial unique index keeps the same
--    rule for the rows that have a key and the same name (connector/store
--    recognises its violations by the name's prefix). Built while the
--    table is locked: on a populated table build it first with CREATE
--    UNIQUE INDEX CONCURRENTLY under another name in a NO TRANSACTION
--    migration, then drop the constraint and rename the index.
CREATE UNIQUE INDEX message_correlations_operator_smsc_canonical_key_partial
    ON smpp.message_correlations (smsc_key, operator_id) WHERE smsc_key IS NOT NULL;
ALTER TABLE smpp.message_correlations DROP CONSTRAINT message_correlations_operator_smsc_canonical_key;
ALTER INDEX smpp.message_correlations_operator_smsc_canonical_key_partial
    RENAME TO message_correlations_operator_smsc_canonical_key;

-- 2. The partial index of unfinished rows (00001) took an entry for every
--    row the prepare inserted (all are pending then), and no statement of
--    the connector reads it: a pending part is found by its message
--    (PrepareParts, HandBack), a timed-out one is answered by its handler.
--    An engineer's query for an operator's pending rows scans the table;
--    rows stay pending only while a command is unacknowledged.
DROP INDEX smpp.message_correlations_unfinished_idx;

-- 3. Room on each page for a row's later versions. The receipt's update
--    touches no indexed column and is HOT when its page has room for the
--    new version (no index entry at all), but with pages filled to 85 % by
--    the inserts, the outcome's versions took the room and the receipt's
--    went elsewhere, writing an entry in every index (measured: 44 % of
--    receipt updates HOT at 85, 84 % at 40). The dead versions are pruned
--    as pages are read; live rows end at about half of each page, about
--    1.7 times the table's size at 85 (only pages written from now on).
ALTER TABLE smpp.message_correlations SET (fillfactor = 50);

-- +goose Down
ALTER TABLE smpp.message_correlations SET (fillfactor = 85);
CREATE INDEX message_correlations_unfinished_idx
    ON smpp.message_correlations (operator_id, submitted_at)
    WHERE submit_status IN ('pending', 'unknown');
DROP INDEX smpp.message_correlations_operator_smsc_canonical_key;
ALTER TABLE smpp.message_correlations
    ADD CONSTRAINT message_correlations_operator_smsc_canonical_key UNIQUE (smsc_key, operator_id);
