-- The connector's submit outcomes from its database, as JSON lines of the
-- outcome event (one a part), for `smpp-connector compare -connector`.
-- Run it against the shadow deployment's database (see README.md):
--
--   psql "$SMPP_POSTGRES_DSN" -X -q -A -t -v ON_ERROR_STOP=1 \
--     -v since='2026-11-30 00:00Z' -v until='2026-12-02 00:00Z' \
--     -f connector/compare/export.sql > connector.jsonl
--
-- smpp.message_correlations holds each part's outcome as the store settled
-- it (accepted > rejected > unknown). Parts still pending (no answer yet)
-- are left out: their messages show as missing on the connector's side.
-- command_status is an int4: "& 4294967295" reads it back as the uint32
-- the SMSC sent.
SELECT json_build_object(
    'messageId',     message_id,
    'operatorId',    operator_id,
    'partNumber',    part_number,
    'partCount',     part_count,
    'outcome',       submit_status,
    'smscMessageId', smsc_message_id,
    'commandStatus', coalesce(command_status, 0)::bigint & 4294967295,
    'at',            coalesce(resp_at, updated_at))
FROM smpp.message_correlations
WHERE submit_status <> 'pending'
    AND created_at >= :'since'::timestamptz AND created_at < :'until'::timestamptz
ORDER BY message_id, part_number;
