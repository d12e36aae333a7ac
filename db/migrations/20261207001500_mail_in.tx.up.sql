-- E-mail in: a provider unit's inbound address with the service a new
-- message is filed at, and one row per message received. message_key (the
-- Message-ID, or a hash of the message when it has none) is unique, so a
-- second delivery of the same message is found and changes nothing. A
-- message that could not become a request or a comment waits here as
-- 'quarantined' with its reason until an agent files or discards it.
CREATE TABLE inbound_addresses (
    id                 {{.ID}},
    address            TEXT NOT NULL,
    provider_unit_id   BIGINT NOT NULL REFERENCES units (id),
    default_service_id BIGINT NOT NULL REFERENCES services (id),
    created_at         {{.TS}} NOT NULL,
    updated_at         {{.TS}} NOT NULL
);
CREATE UNIQUE INDEX inbound_addresses_address_key ON inbound_addresses (address);
CREATE UNIQUE INDEX inbound_addresses_unit_key ON inbound_addresses (provider_unit_id);

CREATE TABLE inbound_messages (
    id               {{.ID}},
    message_key      TEXT NOT NULL,
    received_at      {{.TS}} NOT NULL,
    sender           TEXT NOT NULL DEFAULT '',
    subject          TEXT NOT NULL DEFAULT '',
    body             TEXT NOT NULL DEFAULT '',
    size_bytes       BIGINT NOT NULL,
    raw              {{.Blob}},
    provider_unit_id BIGINT REFERENCES units (id),
    sender_id        BIGINT REFERENCES users (id),
    outcome          TEXT NOT NULL CHECK (outcome IN ('request', 'comment', 'quarantined', 'filed', 'discarded')),
    reason           TEXT NOT NULL DEFAULT '',
    detail           TEXT NOT NULL DEFAULT '',
    request_id       BIGINT REFERENCES requests (id),
    comment_id       BIGINT REFERENCES request_comments (id),
    decided_by       BIGINT REFERENCES users (id),
    decided_at       {{.TS}}
);
CREATE UNIQUE INDEX inbound_messages_key ON inbound_messages (message_key);
CREATE INDEX inbound_messages_quarantine_idx ON inbound_messages (outcome, provider_unit_id, id);
