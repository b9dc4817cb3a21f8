-- +goose Up
-- One index less to maintain on the busiest table (connector/store; issue
-- "ahead of Kannel": every prepared part is inserted, then updated by its
-- outcome in a non-HOT update, and each index takes an entry both times).
-- Receipts have been matched on the canonical key (operator_id, smsc_key:
-- migration 00002) since connector/dlr learned the operators' id formats;
-- the raw SMSC id (smsc_message_id, as sent in submit_sm_resp) is kept for
-- diagnosis only. Its unique constraint was redundant: the canonical key is
-- a function of the raw id under the operator's id rule, so two parts with
-- the same raw id already collide on the canonical key. (After a change of
-- an operator's id rule, an old row and a new one may now hold the same raw
-- id under different keys: harmless, receipts follow the key.)
--
-- To find a part by raw SMSC id, search by smsc_key (the same text for most
-- operators; connector/dlr's rule for the others), or add an index on a
-- replica used for investigations.
--
-- Deploy this with the code that comes with it: an older connector's
-- stealSQL looks parts up by raw id, which without this index scans the table.
ALTER TABLE smpp.message_correlations DROP CONSTRAINT message_correlations_operator_smsc_key;

-- displaced_key: the canonical key a part held until a newer part took it
-- (an SMSC that restarted and gave the id again: stealSQL). A receipt that
-- was waiting in the receipt inbox while that happened, and came before the
-- newer part was submitted, is the older part's: the hold finds it here as
-- the receipt's candidate (connector/store, "Receipts after an SMSC
-- restart"). Steals are rare: the partial index stays tiny.
ALTER TABLE smpp.message_correlations ADD COLUMN displaced_key text;
CREATE INDEX message_correlations_displaced_key ON smpp.message_correlations (displaced_key, operator_id)
    WHERE displaced_key IS NOT NULL;

-- +goose Down
DROP INDEX smpp.message_correlations_displaced_key;
ALTER TABLE smpp.message_correlations DROP COLUMN displaced_key;
-- Fails if two rows of an operator now hold the same raw id (see above).
ALTER TABLE smpp.message_correlations
    ADD CONSTRAINT message_correlations_operator_smsc_key UNIQUE (operator_id, smsc_message_id);
