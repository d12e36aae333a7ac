-- E-mail in over IMAP: the mailbox Tiski reads for an inbound address, with
-- its connection settings and its health. One poller at a time holds a
-- mailbox's lease (lease_owner until lease_until), so several servers on one
-- database never read the same mailbox at once; a poll that fails records
-- its error, counts the failures in a row and waits a growing while
-- (next_poll_at) before trying again. The password is kept here for the
-- poller and is never shown by Tiski.
CREATE TABLE inbound_mailboxes (
    id           {{.ID}},
    address_id   BIGINT NOT NULL REFERENCES inbound_addresses (id),
    host         TEXT NOT NULL,
    port         INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    tls_mode     TEXT NOT NULL CHECK (tls_mode IN ('tls', 'starttls', 'none')),
    username     TEXT NOT NULL,
    password     TEXT NOT NULL DEFAULT '',
    mailbox      TEXT NOT NULL DEFAULT 'INBOX',
    poll_seconds INTEGER NOT NULL CHECK (poll_seconds >= 1),
    lease_owner  TEXT NOT NULL DEFAULT '',
    lease_until  {{.TS}},
    next_poll_at {{.TS}} NOT NULL,
    last_poll_at {{.TS}},
    last_ok_at   {{.TS}},
    last_error   TEXT NOT NULL DEFAULT '',
    failures     INTEGER NOT NULL DEFAULT 0,
    taken        BIGINT NOT NULL DEFAULT 0,
    created_at   {{.TS}} NOT NULL,
    updated_at   {{.TS}} NOT NULL
);
CREATE UNIQUE INDEX inbound_mailboxes_address_key ON inbound_mailboxes (address_id);
CREATE INDEX inbound_mailboxes_due_idx ON inbound_mailboxes (next_poll_at);
