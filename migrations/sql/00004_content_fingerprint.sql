-- +goose Up
-- A fingerprint of what a message's parts carry (SHA-256 of the dispatch
-- command's operator, addresses, text and sending options), written with
-- its rows by PrepareParts: a later command with the same messageId and
-- another fingerprint is a conflict (dead letter), not a redelivery whose
-- parts are already sent. Nullable: rows written before have none and are
-- not checked. Adding a nullable column without a default rewrites nothing.
ALTER TABLE smpp.message_correlations ADD COLUMN content_sha256 bytea;

COMMENT ON COLUMN smpp.message_correlations.content_sha256 IS
    'SHA-256 of the dispatch command content the part belongs to; NULL for rows written before it existed';

-- +goose Down
ALTER TABLE smpp.message_correlations DROP COLUMN content_sha256;
