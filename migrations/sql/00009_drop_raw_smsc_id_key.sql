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
ALTER TABLE smpp.message_correlations DROP CONSTRAINT message_correlations_operator_smsc_key;

-- +goose Down
-- Fails if two rows of an operator now hold the same raw id (see above).
ALTER TABLE smpp.message_correlations
    ADD CONSTRAINT message_correlations_operator_smsc_key UNIQUE (operator_id, smsc_message_id);
