-- +goose Up
-- The event outbox (connector/store, connector/relay). Every outcome and
-- receipt event is written here in the same transaction as the state it
-- reports, then published to JetStream by the relay and deleted. A crash, a
-- NATS outage or a failed publish therefore never loses an event: the row
-- stays until JetStream has acknowledged it. A row published but not yet
-- deleted when a relay dies is published again; its JetStream message id
-- (built from kind, operator, message, part and status: ours, never the
-- SMSC's id, which SMSCs reuse) lets the stream's duplicate window drop it.
--
-- The columns are the event's fields, typed, not a JSON document: the event
-- format is defined once, in connector/events, and the relay builds it.
-- The table stays small (rows live for milliseconds while NATS is up); under
-- an outage it grows by one row per event and drains in id order after: one
-- relay works at a time (a transaction advisory lock), so a part's events
-- reach the stream in the order they were stored.
--
-- Deleted rows are cleaned from the primary key as scans pass them, which a
-- long transaction anywhere in the cluster (pg_dump, a standby with
-- hot_standby_feedback) holds back: watch the table's size after one.
CREATE TABLE smpp.event_outbox (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text        NOT NULL,   -- outcome or receipt
    operator_id     text        NOT NULL,
    message_id      text        NOT NULL,
    part_number     smallint    NOT NULL,
    part_count      smallint    NOT NULL,
    status          text        NOT NULL,   -- accepted/rejected/unknown, or the receipt status
    smsc_message_id text,
    command_status  integer,                -- outcome: submit_sm_resp command_status
    detail          text,                   -- outcome: ESME_RINVDSTADR, "no submit_sm_resp within 10s", ...
    stat            text,                   -- receipt: raw stat: and err: fields
    err             text,
    parts_received  smallint,               -- receipt: parts of the message with a receipt so far
    submitted_at    timestamptz,
    done_at         timestamptz,
    at              timestamptz NOT NULL,   -- outcome: response time; receipt: time received
    -- Written by a replica in shadow mode (Phase 2): such events go to the
    -- comparison log, never to JetStream, even if a live relay finds them
    -- left over after the cutover.
    shadow          boolean     NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT event_outbox_kind_check CHECK (kind IN ('outcome', 'receipt')),
    CONSTRAINT event_outbox_outcome_status_check
        CHECK (kind <> 'outcome' OR status IN ('accepted', 'rejected', 'unknown'))
);

COMMENT ON TABLE smpp.event_outbox IS
    'outcome and receipt events written with their state, waiting to be published to JetStream (connector/relay)';

-- Rows are inserted and deleted within milliseconds: vacuum it after every
-- 10,000 dead rows rather than a share of a table that is nearly empty
-- (autovacuum still looks only every autovacuum_naptime, a minute by default).
ALTER TABLE smpp.event_outbox SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 10000,
    autovacuum_analyze_scale_factor = 0,
    autovacuum_analyze_threshold = 10000
);

-- +goose Down
DROP TABLE smpp.event_outbox;
