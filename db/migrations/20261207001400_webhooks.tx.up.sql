-- Signed webhooks: subscriptions per unit (unit_id) or for the whole
-- organisation (unit_id NULL), the event kinds each hears, and a log of
-- every delivery attempt. A webhook message is an outbox row on the
-- 'webhook' channel whose subscription_id names the subscription (its
-- recipient_id stays NULL; its delivery key is event:subscription:webhook).
-- A subscription is never deleted, only marked deleted_at, because its
-- outbox rows and delivery log point at it.
CREATE TABLE webhook_subscriptions (
    id         {{.ID}},
    unit_id    BIGINT REFERENCES units (id),
    name       TEXT NOT NULL,
    url        TEXT NOT NULL,
    format     TEXT NOT NULL CHECK (format IN ('json', 'chat')),
    locale     TEXT NOT NULL DEFAULT 'en',
    secret     TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at {{.TS}} NOT NULL,
    deleted_at {{.TS}}
);
CREATE INDEX webhook_subscriptions_unit_idx ON webhook_subscriptions (unit_id);

CREATE TABLE webhook_subscription_kinds (
    subscription_id BIGINT NOT NULL REFERENCES webhook_subscriptions (id),
    kind            TEXT NOT NULL,
    PRIMARY KEY (subscription_id, kind)
);
CREATE INDEX webhook_subscription_kinds_kind_idx ON webhook_subscription_kinds (kind);

ALTER TABLE outbox ADD COLUMN subscription_id BIGINT REFERENCES webhook_subscriptions (id);

CREATE TABLE webhook_deliveries (
    id              {{.ID}},
    outbox_id       BIGINT NOT NULL REFERENCES outbox (id),
    subscription_id BIGINT NOT NULL REFERENCES webhook_subscriptions (id),
    event_id        BIGINT NOT NULL REFERENCES notification_events (id),
    attempt         INTEGER NOT NULL,
    outcome         TEXT NOT NULL CHECK (outcome IN ('delivered', 'failed')),
    response_code   INTEGER NOT NULL DEFAULT 0,
    error           TEXT NOT NULL DEFAULT '',
    at              {{.TS}} NOT NULL
);
CREATE INDEX webhook_deliveries_subscription_idx ON webhook_deliveries (subscription_id, id);
