-- Notifications: the events people hear about, one in-app notification per
-- recipient, per-user e-mail choices per kind, and the transactional outbox
-- that delivers side effects after commit (e-mail now; webhooks later use
-- the same table with another channel). Rows are written in the transaction
-- of the change that caused them.
CREATE TABLE notification_events (
    id          {{.ID}},
    kind        TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   BIGINT NOT NULL,
    actor_id    BIGINT REFERENCES users (id),
    args_json   TEXT NOT NULL DEFAULT '{}',
    at          {{.TS}} NOT NULL
);
CREATE INDEX notification_events_object_idx ON notification_events (object_type, object_id, id);

CREATE TABLE notifications (
    id         {{.ID}},
    event_id   BIGINT NOT NULL REFERENCES notification_events (id),
    user_id    BIGINT NOT NULL REFERENCES users (id),
    created_at {{.TS}} NOT NULL,
    read_at    {{.TS}}
);
CREATE UNIQUE INDEX notifications_event_user_key ON notifications (event_id, user_id);
CREATE INDEX notifications_user_idx ON notifications (user_id, id);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;

CREATE TABLE notification_prefs (
    user_id BIGINT NOT NULL REFERENCES users (id),
    kind    TEXT NOT NULL,
    email   BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, kind)
);

-- One row per message to deliver. delivery_key (event, recipient, channel)
-- makes a second enqueue of the same message a no-op. A worker claims due
-- rows by setting lease_until and claim_token; a worker killed mid-delivery
-- leaves a lease that expires, and the row is claimed again.
CREATE TABLE outbox (
    id              {{.ID}},
    channel         TEXT NOT NULL,
    delivery_key    TEXT NOT NULL,
    event_id        BIGINT NOT NULL REFERENCES notification_events (id),
    recipient_id    BIGINT REFERENCES users (id),
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at {{.TS}} NOT NULL,
    lease_until     {{.TS}},
    claim_token     TEXT NOT NULL DEFAULT '',
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      {{.TS}} NOT NULL,
    delivered_at    {{.TS}}
);
CREATE UNIQUE INDEX outbox_delivery_key ON outbox (delivery_key);
CREATE INDEX outbox_due_idx ON outbox (status, next_attempt_at);
