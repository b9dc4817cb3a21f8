-- +goose Up
-- Parts of segmented mobile-originated messages (UDH 8/16-bit or SAR). A part
-- is stored before its deliver_sm_resp goes back, so a connector that
-- restarts mid-message still has the parts the SMSC will not send again. The
-- key is the one a handset gives a concatenated message: sender, recipient,
-- reference and part count. Once the message is published its parts stay,
-- marked published, until they expire: a late copy of one of them (the SMSC
-- sending a part again) is then recognised and dropped, instead of starting a
-- new message, or joining the next message that reuses the reference.
CREATE TABLE smpp.mo_parts (
    operator_id  text        NOT NULL,
    source       text        NOT NULL,
    destination  text        NOT NULL,
    ref          integer     NOT NULL,   -- concatenation reference (8 or 16 bits)
    total        smallint    NOT NULL,
    seq          smallint    NOT NULL,
    data_coding  smallint    NOT NULL,
    octets       bytea       NOT NULL,   -- the part's text octets, UDH removed
    received_at  timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,            -- set on every part once the message is published
    PRIMARY KEY (operator_id, source, destination, ref, total, seq),
    CHECK (seq BETWEEN 1 AND total)
);
-- Incomplete messages and published markers are expired by age.
CREATE INDEX mo_parts_received_at ON smpp.mo_parts (received_at);

-- +goose Down
DROP TABLE smpp.mo_parts;
