-- +goose Up
-- Operators paused by an engineer (the admin API, `smpp-connector ctl
-- pause`): their owner keeps its binds up (receipts and MO still come in)
-- but takes no dispatch command, which waits in JetStream until the
-- operator is resumed. In the database, not in a replica's memory, so that
-- a pause holds across a handover, a restart and a rollout, whichever
-- replica owns the operator. Every replica reads the table every second
-- (connector/store pauses.go); resuming deletes the row.
CREATE TABLE smpp.operator_pauses (
    operator_id text        PRIMARY KEY,
    reason      text        NOT NULL DEFAULT '',
    paused_by   text        NOT NULL DEFAULT '',
    paused_at   timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE smpp.operator_pauses;
