-- One-click rating links mailed when a request is resolved. Only the hash
-- of a link's token is kept (the token is signed from the link's id with a
-- key in settings, so the mail can carry it); a link rates once and only
-- until it expires. remind_at is when one reminder goes out if the request
-- is still not rated; reminded_at marks that it went.
CREATE TABLE rating_links (
    id          {{.ID}},
    request_id  BIGINT NOT NULL REFERENCES requests (id),
    user_id     BIGINT NOT NULL REFERENCES users (id),
    token_hash  TEXT NOT NULL,
    created_at  {{.TS}} NOT NULL,
    expires_at  {{.TS}} NOT NULL,
    remind_at   {{.TS}} NOT NULL,
    reminded_at {{.TS}},
    used_at     {{.TS}}
);
CREATE UNIQUE INDEX rating_links_hash_key ON rating_links (token_hash);
CREATE INDEX rating_links_request_idx ON rating_links (request_id);
CREATE INDEX rating_links_remind_idx ON rating_links (remind_at) WHERE reminded_at IS NULL AND used_at IS NULL;

-- A scheduled notice (an SLA mark, a rating reminder, a digest) carries a
-- key naming what it is about, so that several tiski serve processes
-- sweeping at once record it once: the second insert is a no-op.
ALTER TABLE notification_events ADD COLUMN event_key TEXT;
CREATE UNIQUE INDEX notification_events_key ON notification_events (event_key);
