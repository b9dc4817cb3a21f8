-- +goose Up
-- The receipt inbox (connector/store inbox.go, connector/inbound). A
-- deliver_sm carrying a receipt is answered once the receipt is here,
-- committed: one INSERT for every receipt that arrived while the previous
-- one committed (group commit, a millisecond or two with fsync on), instead
-- of after its part was found, its state written and its event stored (a
-- batch transaction of 15-20 ms, during which an SMSC's window of about 100
-- unanswered deliver_sm fills and its receipts queue). The inbox is then
-- drained in id order: each receipt is applied (or held) in a batch
-- transaction that also deletes its inbox row, so a receipt is applied
-- exactly once whatever crashes between the two, and a row two drains race
-- for is applied by the one whose DELETE returned it.
--
-- The columns are a parsed receipt's (connector/dlr already read the text
-- and the id rule made the key; the raw text is kept for the record), with
-- the epoch bounds connector/inbound computed when the deliver_sm was read,
-- since they depend on what the binds were doing then.
CREATE TABLE smpp.receipt_inbox (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    operator_id     text        NOT NULL,
    smsc_key        text        NOT NULL,
    smsc_message_id text        NOT NULL,
    receipt_state   text        NOT NULL,
    receipt_stat    text,
    receipt_err     text,
    done_at         timestamptz,
    received_at     timestamptz NOT NULL,
    raw             bytea       NOT NULL,
    not_before      timestamptz,
    horizon         timestamptz,
    hold_for        interval,
    -- Received by a replica in shadow mode (Phase 2): applied only by a
    -- shadow replica, so that its events are never published.
    shadow          boolean     NOT NULL DEFAULT false,
    -- Why applying the receipt failed for good (a row that fails its batch
    -- alone, with an error a retry cannot fix): kept for inspection and no
    -- longer drained, so that one bad row cannot stop the others.
    failed          text,
    created_at      timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE smpp.receipt_inbox IS
    'receipts answered to the SMSC, waiting to be matched to their parts (connector/store inbox.go)';

-- The drain reads the oldest rows of its kind not set aside through the
-- primary key (PostgreSQL prefers it to a partial index on (shadow, id),
-- which would cost every insert an index entry more: set-aside rows are
-- data errors, rare, and alerted on; many of them at the head of the table
-- would be walked by every pass). Purge finds the set-aside ones.
CREATE INDEX receipt_inbox_failed ON smpp.receipt_inbox (id) WHERE failed IS NOT NULL;

-- Rows live for milliseconds: vacuum after every 10,000 dead rows rather
-- than a share of a table that is nearly empty (as smpp.event_outbox).
ALTER TABLE smpp.receipt_inbox SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 10000,
    autovacuum_analyze_scale_factor = 0,
    autovacuum_analyze_threshold = 10000
);

-- +goose Down
DROP TABLE smpp.receipt_inbox;
