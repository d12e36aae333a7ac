-- The service catalog (services, effective-dated rates) and the request
-- aggregate with its events, comments, attachments, time and feedback.
CREATE TABLE services (
    id                         {{.ID}},
    provider_unit_id           BIGINT NOT NULL REFERENCES units (id),
    code                       TEXT NOT NULL,
    name                       TEXT NOT NULL,
    category                   TEXT NOT NULL DEFAULT '',
    description                TEXT NOT NULL DEFAULT '',
    pricing_model              TEXT NOT NULL CHECK (pricing_model IN ('fixed', 'per_unit', 'hourly', 'monthly')),
    unit_label                 TEXT NOT NULL DEFAULT '',
    approval_policy            TEXT NOT NULL CHECK (approval_policy IN ('always', 'threshold', 'never')),
    sla_first_response_minutes INTEGER NOT NULL CHECK (sla_first_response_minutes > 0),
    sla_resolution_minutes     INTEGER NOT NULL CHECK (sla_resolution_minutes > 0),
    fields_json                TEXT NOT NULL DEFAULT '[]',
    active                     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at                 {{.TS}} NOT NULL,
    updated_at                 {{.TS}} NOT NULL
);
CREATE UNIQUE INDEX services_code_key ON services (code);
CREATE INDEX services_provider_idx ON services (provider_unit_id);

CREATE TABLE service_rates (
    id             {{.ID}},
    service_id     BIGINT NOT NULL REFERENCES services (id),
    price_minor    BIGINT NOT NULL CHECK (price_minor >= 0),
    currency       TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    created_by     BIGINT REFERENCES users (id),
    created_at     {{.TS}} NOT NULL
);
CREATE UNIQUE INDEX service_rates_effective_key ON service_rates (service_id, effective_from);

CREATE TABLE requests (
    id                         {{.ID}},
    service_id                 BIGINT NOT NULL REFERENCES services (id),
    consumer_unit_id           BIGINT NOT NULL REFERENCES units (id),
    provider_unit_id           BIGINT NOT NULL REFERENCES units (id),
    requester_id               BIGINT NOT NULL REFERENCES users (id),
    created_by                 BIGINT NOT NULL REFERENCES users (id),
    assignee_id                BIGINT REFERENCES users (id),
    title                      TEXT NOT NULL,
    description                TEXT NOT NULL DEFAULT '',
    quantity                   TEXT NOT NULL,
    fields_json                TEXT NOT NULL DEFAULT '{}',
    channel                    TEXT NOT NULL CHECK (channel IN ('portal', 'email', 'phone', 'chat', 'walk_in', 'api')),
    status                     TEXT NOT NULL,
    version                    BIGINT NOT NULL DEFAULT 1,
    rate_id                    BIGINT NOT NULL REFERENCES service_rates (id),
    pricing_model              TEXT NOT NULL,
    unit_price_minor           BIGINT NOT NULL,
    estimate_minor             BIGINT NOT NULL,
    currency                   TEXT NOT NULL,
    needs_approval             BOOLEAN NOT NULL DEFAULT FALSE,
    sla_first_response_minutes INTEGER NOT NULL,
    sla_resolution_minutes     INTEGER NOT NULL,
    first_response_due_at      {{.TS}},
    resolution_due_at          {{.TS}},
    first_responded_at         {{.TS}},
    resolved_at                {{.TS}},
    closed_at                  {{.TS}},
    search_text                TEXT NOT NULL DEFAULT '',
    created_at                 {{.TS}} NOT NULL,
    updated_at                 {{.TS}} NOT NULL
);
CREATE INDEX requests_provider_idx ON requests (provider_unit_id, id);
CREATE INDEX requests_provider_status_idx ON requests (provider_unit_id, status, id);
CREATE INDEX requests_consumer_idx ON requests (consumer_unit_id, id);
CREATE INDEX requests_requester_idx ON requests (requester_id, id);
CREATE INDEX requests_assignee_idx ON requests (assignee_id, id);
CREATE INDEX requests_status_idx ON requests (status, id);
CREATE INDEX requests_service_idx ON requests (service_id, id);
CREATE INDEX requests_resolved_idx ON requests (status, resolved_at);
CREATE INDEX requests_updated_idx ON requests (updated_at, id);

CREATE TABLE request_events (
    id          {{.ID}},
    request_id  BIGINT NOT NULL REFERENCES requests (id),
    at          {{.TS}} NOT NULL,
    actor_id    BIGINT REFERENCES users (id),
    action      TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT,
    note        TEXT NOT NULL DEFAULT '',
    internal    BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX request_events_request_idx ON request_events (request_id, id);

CREATE TABLE request_comments (
    id         {{.ID}},
    request_id BIGINT NOT NULL REFERENCES requests (id),
    author_id  BIGINT NOT NULL REFERENCES users (id),
    body       TEXT NOT NULL,
    body_html  TEXT NOT NULL,
    internal   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at {{.TS}} NOT NULL
);
CREATE INDEX request_comments_request_idx ON request_comments (request_id, id);

CREATE TABLE attachment_contents (
    storage_name TEXT PRIMARY KEY,
    content      {{.Blob}} NOT NULL
);

CREATE TABLE request_attachments (
    id           {{.ID}},
    request_id   BIGINT NOT NULL REFERENCES requests (id),
    uploader_id  BIGINT NOT NULL REFERENCES users (id),
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes   BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    storage_name TEXT NOT NULL REFERENCES attachment_contents (storage_name),
    internal     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   {{.TS}} NOT NULL
);
CREATE INDEX request_attachments_request_idx ON request_attachments (request_id, id);

CREATE TABLE time_entries (
    id         {{.ID}},
    request_id BIGINT NOT NULL REFERENCES requests (id),
    agent_id   BIGINT NOT NULL REFERENCES users (id),
    minutes    INTEGER NOT NULL CHECK (minutes > 0 AND minutes <= 1440),
    work_date  TEXT NOT NULL,
    billable   BOOLEAN NOT NULL DEFAULT TRUE,
    note       TEXT NOT NULL DEFAULT '',
    created_at {{.TS}} NOT NULL
);
CREATE INDEX time_entries_request_idx ON time_entries (request_id, id);

CREATE TABLE request_feedback (
    request_id BIGINT PRIMARY KEY REFERENCES requests (id),
    author_id  BIGINT NOT NULL REFERENCES users (id),
    rating     INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment    TEXT NOT NULL DEFAULT '',
    created_at {{.TS}} NOT NULL
);

CREATE TABLE idempotency_keys (
    user_id         BIGINT NOT NULL REFERENCES users (id),
    key             TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    response_status INTEGER,
    response_body   TEXT,
    created_at      {{.TS}} NOT NULL,
    PRIMARY KEY (user_id, key)
);
{{if .Postgres}}
CREATE TRIGGER request_events_append_only BEFORE UPDATE OR DELETE ON request_events
    FOR EACH ROW EXECUTE FUNCTION tiski_refuse_change();
{{else}}
CREATE TRIGGER request_events_no_update BEFORE UPDATE ON request_events
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on request_events is refused: the table is append-only');
END;
--bun:split
CREATE TRIGGER request_events_no_delete BEFORE DELETE ON request_events
BEGIN
    SELECT RAISE(ABORT, 'DELETE on request_events is refused: the table is append-only');
END;
{{end}}
