-- +goose Up
-- The connector's correlation store (DESIGN.md section 3, PostgreSQL): one row per
-- submitted part, mapping (operator, SMSC message id) to the orchestrator's message
-- id and part number, with the submit outcome and the receipt state.
CREATE SCHEMA IF NOT EXISTS smpp;

CREATE TABLE smpp.message_correlations (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    operator_id      text        NOT NULL,
    message_id       text        NOT NULL,  -- the orchestrator's messageId
    part_number      smallint    NOT NULL DEFAULT 1,
    part_count       smallint    NOT NULL DEFAULT 1,
    smsc_message_id  text,                  -- from submit_sm_resp; NULL until then
    sequence_number  integer,               -- of the submit_sm, for diagnosis
    submit_status    text        NOT NULL DEFAULT 'pending',
    command_status   integer,               -- submit_sm_resp command_status
    submitted_at     timestamptz,
    resp_at          timestamptz,
    receipt_state    text,                  -- normalised: DELIVERED, UNDELIVERABLE, ...
    receipt_stat     text,                  -- raw stat: field of the receipt
    receipt_err      text,                  -- raw err: field of the receipt
    receipt_at       timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),

    -- A receipt is looked up by (operator, SMSC id); a retried submit_sm_resp for
    -- the same id is a no-op (ON CONFLICT DO NOTHING / DO UPDATE).
    CONSTRAINT message_correlations_operator_smsc_key UNIQUE (operator_id, smsc_message_id),
    -- A redelivered dispatch command finds its parts again instead of adding rows.
    CONSTRAINT message_correlations_message_part_key UNIQUE (message_id, part_number),
    CONSTRAINT message_correlations_part_check
        CHECK (part_count >= 1 AND part_number BETWEEN 1 AND part_count),
    CONSTRAINT message_correlations_submit_status_check
        CHECK (submit_status IN ('pending', 'accepted', 'rejected', 'unknown')),
    CONSTRAINT message_correlations_receipt_state_check
        CHECK (receipt_state IN ('DELIVERED', 'UNDELIVERABLE', 'EXPIRED', 'REJECTED',
                                 'DELETED', 'ACCEPTED', 'ENROUTE', 'UNKNOWN'))
);

COMMENT ON TABLE smpp.message_correlations IS
    'submit_sm parts: (operator_id, smsc_message_id) -> (message_id, part_number), submit outcome and receipt state';

-- Sweeps of submits still waiting for a response (timeouts, reconciliation after a
-- crash) only touch the small set of unfinished rows.
CREATE INDEX message_correlations_unfinished_idx
    ON smpp.message_correlations (operator_id, submitted_at)
    WHERE submit_status IN ('pending', 'unknown');

-- Retention deletes or detaches by age; BRIN stays tiny on an append-mostly table
-- of tens of millions of rows.
CREATE INDEX message_correlations_created_at_brin
    ON smpp.message_correlations USING brin (created_at);

-- +goose Down
DROP TABLE smpp.message_correlations;
