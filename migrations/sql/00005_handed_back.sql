-- +goose Up
-- Whether a pending part was handed back unsent by the delivery that
-- prepared or last took it (its submit was refused before the wire, answered
-- with a temporary error, or not tried: the command was postponed or the
-- replica stopped). A pending part found by a redelivery that is not handed
-- back was left by a process that died while it may have been on its way to
-- the SMSC: the operator's afterCrash policy decides (reported unknown, or
-- sent again). Written only on those paths, never on the first delivery's.
-- A constant default rewrites nothing (PostgreSQL 11+).
ALTER TABLE smpp.message_correlations ADD COLUMN handed_back boolean NOT NULL DEFAULT false;

COMMENT ON COLUMN smpp.message_correlations.handed_back IS
    'true: the pending part was handed back unsent and may be submitted by the next delivery';

-- +goose Down
ALTER TABLE smpp.message_correlations DROP COLUMN handed_back;
