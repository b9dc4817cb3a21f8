-- +goose Up
-- Receipts that were answered to the SMSC but never applied to a part
-- (connector/store unmatched.go; issue 9: "a receipt that cannot be parsed
-- or matched is never silently gone"). The SMSC does not send a receipt
-- again once it was answered ESME_ROK, so a receipt that ends anywhere but
-- on its part is kept here, for inspection and to be matched later:
--
--   unparseable: connector/dlr could not read it as a receipt (no id, no
--                recognisable status); recorded before the deliver_sm is
--                answered (RecordUnmatched).
--   invalid:     read, but the store refuses it (an id longer than an index
--                key, a time out of range); recorded before it is answered.
--   no_part:     held in smpp.pending_receipts (before its submit_sm_resp,
--                or by its id epoch) and no part took it before
--                ExpirePendingReceipts gave up: moved here by the same
--                statement that deletes it there.
--   failed:      its drain transaction failed alone with an error a retry
--                cannot fix (SQLSTATE class 22 or 23): moved here from
--                smpp.receipt_inbox by the statement that deletes it there
--                (the inbox's failed column is no longer set; the rows set
--                aside before this migration are moved below).
--
-- Receipts of one kind only are kept: duplicates of a final receipt and
-- intermediate states after a final one were applied to their part
-- (receipt_count) and are only counted.
--
-- What was read of the receipt is kept as read (no CHECK on the state: a
-- failed row may hold the very value that failed it); the PDU as received
-- (raw: short_message or message_payload; tlvs: {"0x001e": "hex"}) is the
-- record. The epoch bounds (migration 00007) are kept so that a re-match
-- (RematchUnmatched) goes through the lookup rules the receipt met when it
-- came: a re-matched receipt is never given to a part submitted after it
-- came (an SMSC that restarted gives the same id to a new message).
CREATE TABLE smpp.unmatched_receipts (
    id                 bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    operator_id        text        NOT NULL,
    reason             text        NOT NULL,
    detail             text,        -- the parser's or the database's error, the give-up rule
    smsc_key           text,        -- canonical key (NULL: unparseable)
    smsc_message_id    text,        -- the id as in the receipt
    receipt_state      text,
    receipt_stat       text,
    receipt_err        text,
    done_at            timestamptz,
    pdu                text,        -- deliver_sm or data_sm; NULL for rows moved from the other tables
    esm_class          smallint,
    data_coding        smallint,
    raw                bytea       NOT NULL,
    tlvs               jsonb,
    received_at        timestamptz NOT NULL,
    not_before         timestamptz,
    horizon            timestamptz,
    hold_for           interval,
    shadow             boolean     NOT NULL DEFAULT false,
    held_at            timestamptz, -- no_part: when it was held
    recorded_at        timestamptz NOT NULL DEFAULT now(),
    -- Set when RematchUnmatched moved it back to the inbox: the part its key
    -- then matched (the drain applies it by the usual rules).
    matched_at         timestamptz,
    matched_message_id text,
    matched_part       smallint,

    CONSTRAINT unmatched_receipts_reason_check
        CHECK (reason IN ('unparseable', 'invalid', 'no_part', 'failed')),
    CONSTRAINT unmatched_receipts_pdu_check CHECK (pdu IN ('deliver_sm', 'data_sm'))
);

COMMENT ON TABLE smpp.unmatched_receipts IS
    'receipts answered to the SMSC but never applied to a part, by reason; kept for inspection and re-matching (connector/store unmatched.go)';

-- Re-matching (RematchUnmatched) walks an operator's no_part rows not yet
-- matched, oldest first, until it has found its limit of rows whose part is
-- there (each looked up by key in smpp.message_correlations); rows matched
-- or of other reasons are not indexed. (An index led by the key would serve
-- a lookup of one key, which nothing does: the walk by id stops at its
-- limit, a scan of the key index would not.)
CREATE INDEX unmatched_receipts_rematch ON smpp.unmatched_receipts (operator_id, id)
    WHERE reason = 'no_part' AND matched_at IS NULL;
-- Retention (Purge) deletes by age.
CREATE INDEX unmatched_receipts_received_at ON smpp.unmatched_receipts (received_at);

-- The receipts set aside in the inbox so far: here, with the others.
INSERT INTO smpp.unmatched_receipts (operator_id, reason, detail, smsc_key, smsc_message_id, receipt_state,
    receipt_stat, receipt_err, done_at, raw, received_at, not_before, horizon, hold_for, shadow, recorded_at)
SELECT operator_id, 'failed', failed, smsc_key, smsc_message_id, receipt_state, receipt_stat, receipt_err,
    done_at, raw, received_at, not_before, horizon, hold_for, shadow, created_at
FROM smpp.receipt_inbox WHERE failed IS NOT NULL ORDER BY id;
DELETE FROM smpp.receipt_inbox WHERE failed IS NOT NULL;
-- The failed column stays: a connector of the previous version, still
-- running while this one is deployed, sets it (Purge deletes those rows).

-- +goose Down
INSERT INTO smpp.receipt_inbox (operator_id, smsc_key, smsc_message_id, receipt_state, receipt_stat,
    receipt_err, done_at, received_at, raw, not_before, horizon, hold_for, shadow, failed, created_at)
SELECT operator_id, smsc_key, smsc_message_id, receipt_state, receipt_stat, receipt_err, done_at,
    received_at, raw, not_before, horizon, hold_for, shadow, coalesce(detail, 'failed'), recorded_at
FROM smpp.unmatched_receipts WHERE reason = 'failed' ORDER BY id;
DROP TABLE smpp.unmatched_receipts;
