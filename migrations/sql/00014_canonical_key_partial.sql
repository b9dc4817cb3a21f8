-- +goose Up
-- The second half of 00013: the canonical-key constraint gives way to the
-- partial unique index built there, under the constraint's name, and the
-- table's new pages keep room for the receipt's update. Both statements
-- lock the table for a moment; lock_timeout makes a migration that cannot
-- get the lock fail (and the replica retry at its next start) rather than
-- queue every write behind it.
SET LOCAL lock_timeout = '5s';
ALTER TABLE smpp.message_correlations DROP CONSTRAINT message_correlations_operator_smsc_canonical_key;
ALTER INDEX smpp.message_correlations_operator_smsc_canonical_key_partial
    RENAME TO message_correlations_operator_smsc_canonical_key;

-- Room on each page for a row's later versions. The receipt's update
-- touches no indexed column and is HOT when its page has room for the new
-- version (no index entry at all), but with pages filled to 85 % by the
-- inserts, the outcome's versions took the room and the receipt's went
-- elsewhere, writing an entry in every index (measured: 44 % of receipt
-- updates HOT at 85, 84 % at 40; WAL records of the receipt's update 3.2 at
-- 85, 1.9 at 50). The dead versions are pruned as pages are read; live rows
-- end at about half of each page, about 1.7 times the table's size at 85
-- (only pages written from now on).
ALTER TABLE smpp.message_correlations SET (fillfactor = 50);

-- +goose Down
SET LOCAL lock_timeout = '5s';
ALTER TABLE smpp.message_correlations SET (fillfactor = 85);
ALTER INDEX smpp.message_correlations_operator_smsc_canonical_key
    RENAME TO message_correlations_operator_smsc_canonical_key_partial;
ALTER TABLE smpp.message_correlations
    ADD CONSTRAINT message_correlations_operator_smsc_canonical_key UNIQUE (smsc_key, operator_id);
