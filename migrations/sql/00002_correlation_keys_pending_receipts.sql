-- +goose Up
-- The connector's store (connector/store) on top of 00001:
--
-- 1. Canonical SMSC key. Operators format the same message id differently in
--    submit_sm_resp and in the receipt (hex vs decimal, leading zeros, case),
--    so receipts are matched on a canonical key computed by connector/dlr, not
--    on the raw id. smsc_key holds that key; (operator_id, smsc_key) is the
--    unique key receipts are looked up by (index columns: smsc_key, operator_id).
--
--    The raw id (smsc_message_id) and its unique key from 00001 are kept: the
--    raw id is what the operator's support desk and the SMSC logs quote, so
--    on-call engineers search by it, and because the canonical key is a
--    function of the raw id, the raw unique key never refuses a row the
--    canonical one accepts. Its cost is one more btree entry per accepted part.
--    When an SMSC reuses an id (counters wrap) while an older row still holds
--    it, the store moves the key and raw id to the newer part (the older row
--    keeps its outcome and receipt state; the store logs the displacement).
--    Both keys are NULL until the submit is accepted: rejected and unknown
--    parts, and the many pending rows, do not collide.
ALTER TABLE smpp.message_correlations
    ADD COLUMN smsc_key        text,         -- canonical SMSC id; NULL until accepted
    ADD COLUMN receipt_done_at timestamptz,  -- done date: of the receipt applied
    ADD COLUMN receipt_count   integer NOT NULL DEFAULT 0;  -- every receipt seen, duplicates included

-- One row per (operator, canonical key). The index leads with smsc_key: a
-- receipt lookup is an equality on both columns, which either order serves,
-- and an index led by operator_id would compete (at equal cost on a small
-- table) with the raw-id index for lookups by (operator_id, smsc_message_id).
-- The table is new (nothing in production yet), so the constraint is added in
-- place. On a populated table build the index first with
-- CREATE UNIQUE INDEX CONCURRENTLY (in a NO TRANSACTION migration) and attach it
-- with ADD CONSTRAINT ... UNIQUE USING INDEX.
ALTER TABLE smpp.message_correlations
    ADD CONSTRAINT message_correlations_operator_smsc_canonical_key UNIQUE (smsc_key, operator_id);

COMMENT ON COLUMN smpp.message_correlations.smsc_key IS
    'canonical SMSC message id (connector/dlr); receipts are matched on (operator_id, smsc_key)';
COMMENT ON COLUMN smpp.message_correlations.smsc_message_id IS
    'raw SMSC message id as sent in submit_sm_resp, for diagnosis';

-- Every row is updated two or three times (outcome, then receipts). Receipt
-- updates touch no indexed column, so they can be HOT updates when the page has
-- room: leave 15% free. At tens of millions of rows the default vacuum trigger
-- (20% dead rows) is millions of rows late; vacuum and analyse far sooner.
ALTER TABLE smpp.message_correlations SET (
    fillfactor = 85,
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.01
);

-- Retention (connector/store Purge) deletes old finished rows in batches found
-- through the BRIN index on created_at; summarise new block ranges as they fill
-- instead of waiting for a vacuum.
ALTER INDEX smpp.message_correlations_created_at_brin SET (autosummarize = on);

-- 2. Receipts that arrive before their submit_sm_resp has been stored (the
--    SMSC answers the receipt first, or the response is still in the store's
--    write batch). They are held here, never dropped; storing the accepted
--    outcome for the key applies them in the same transaction. Those that never
--    match are expired (counted and logged by the connector). Rows live
--    seconds, so the table stays small; plain btrees suffice.
CREATE TABLE smpp.pending_receipts (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    operator_id     text        NOT NULL,
    smsc_key        text        NOT NULL,  -- canonical SMSC id
    smsc_message_id text        NOT NULL,  -- raw id as in the receipt
    receipt_state   text        NOT NULL,
    receipt_stat    text,
    receipt_err     text,
    done_at         timestamptz,
    received_at     timestamptz NOT NULL,
    raw             bytea,                  -- the receipt as received, to publish it later
    created_at      timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT pending_receipts_receipt_state_check
        CHECK (receipt_state IN ('DELIVERED', 'UNDELIVERABLE', 'EXPIRED', 'REJECTED',
                                 'DELETED', 'ACCEPTED', 'ENROUTE', 'UNKNOWN'))
);

COMMENT ON TABLE smpp.pending_receipts IS
    'receipts received before their submit_sm_resp was stored; applied when it is, or expired';

-- Not unique: a duplicated early receipt is held twice and reported as a
-- duplicate when applied.
CREATE INDEX pending_receipts_operator_key_idx ON smpp.pending_receipts (operator_id, smsc_key);
CREATE INDEX pending_receipts_created_at_idx ON smpp.pending_receipts (created_at);

-- +goose Down
DROP TABLE smpp.pending_receipts;
ALTER INDEX smpp.message_correlations_created_at_brin RESET (autosummarize);
ALTER TABLE smpp.message_correlations RESET (
    fillfactor, autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor
);
ALTER TABLE smpp.message_correlations
    DROP CONSTRAINT message_correlations_operator_smsc_canonical_key,
    DROP COLUMN receipt_count,
    DROP COLUMN receipt_done_at,
    DROP COLUMN smsc_key;
