-- +goose Up
-- The operators each replica has configured (connector/store operators.go,
-- connector/operator Strays). Every replica upserts the operators of its
-- operators file at start and at every Strays sweep (10 s), last_seen from
-- the database's clock. A replica finding commands for an operator it does
-- not know dead-letters them ("unknown operator") only when no replica has
-- listed that operator for KnownWithin (24 h): an operator configured on
-- other replicas whose runners are all down for a while (a rollout, a
-- crash) keeps its backlog for them instead of losing it to a replica of
-- another version that does not know it.
--
-- One row per operator: replica is the last one that listed it (for
-- on-call). An operator removed from every operators file is listed by
-- nobody: its commands are dead-lettered once its row is older than the
-- window, or at once after DELETE FROM smpp.configured_operators WHERE
-- operator_id = '...'.
CREATE TABLE smpp.configured_operators (
    operator_id text        PRIMARY KEY,
    last_seen   timestamptz NOT NULL DEFAULT now(),
    replica     text        NOT NULL DEFAULT '',
    first_seen  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE smpp.configured_operators;
