-- +goose Up
-- Receipts after an SMSC restart (connector/store, "Receipts after an SMSC
-- restart"). An SMSC that restarts may count its message ids from 1 again
-- while rows of messages sent before still hold them. A receipt is
-- attributed only to a part whose submit was answered at or after the
-- receipt's not_before (the operator's id epoch: the first bind after all
-- its binds were down; and its receipt horizon); one that finds only an
-- older part holding its key is held here like a receipt that came before
-- its response, until the newer part's accepted outcome takes the key.
--
-- not_before: the part that releases the receipt must have been answered
--             at or after it (a late write of an older part's outcome does
--             not take the receipt).
-- horizon:    once hold_until has passed and no newer part took the key, the
--             binds dropped for a network cut, not a restart: the sweep
--             (SweepHeldReceipts) attributes the receipt to the part holding
--             the key if that part was answered at or after horizon.
-- hold_until: when the sweep may do so.
-- candidate_id: the older part that held the key when the receipt was held
--             (within the horizon). A part that takes the key later is
--             given the receipt only if it was submitted before the receipt
--             arrived (a receipt cannot precede its submit: an SMSC that
--             restarts may still deliver receipts of messages sent before,
--             whose ids it then hands out again); else the sweep gives it
--             to this one.
-- All are NULL for receipts held without epoch bounds (never swept).
ALTER TABLE smpp.pending_receipts
    ADD COLUMN not_before   timestamptz,
    ADD COLUMN horizon      timestamptz,
    ADD COLUMN hold_until   timestamptz,
    ADD COLUMN candidate_id bigint;

-- No index on hold_until: the table holds only receipts waiting for their
-- response (most for milliseconds), and the sweep's scan of it every few
-- seconds costs less than one more index entry per held receipt.

-- +goose Down
ALTER TABLE smpp.pending_receipts
    DROP COLUMN candidate_id,
    DROP COLUMN hold_until,
    DROP COLUMN horizon,
    DROP COLUMN not_before;
