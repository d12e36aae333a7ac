-- Foundation: organisation settings, units, users, role grants, sessions,
-- API tokens, login throttling and the audit trail.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE policy_state (
    id      INTEGER PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO policy_state (id, version) VALUES (1, 1);

CREATE TABLE units (
    id                       {{.ID}},
    code                     TEXT NOT NULL,
    name                     TEXT NOT NULL,
    parent_id                BIGINT REFERENCES units (id),
    approval_threshold_minor BIGINT NOT NULL DEFAULT 0,
    budget_mode              TEXT NOT NULL DEFAULT 'soft' CHECK (budget_mode IN ('soft', 'hard')),
    chargeback_mode          TEXT NOT NULL DEFAULT 'chargeback' CHECK (chargeback_mode IN ('chargeback', 'showback')),
    archived                 BOOLEAN NOT NULL DEFAULT FALSE,
    created_at               {{.TS}} NOT NULL,
    updated_at               {{.TS}} NOT NULL
);
CREATE UNIQUE INDEX units_code_key ON units (code);
CREATE INDEX units_parent_idx ON units (parent_id);

CREATE TABLE users (
    id            {{.ID}},
    email         TEXT NOT NULL,
    email_key     TEXT NOT NULL,
    name          TEXT NOT NULL,
    locale        TEXT NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'fi')),
    password_hash TEXT NOT NULL DEFAULT '',
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    {{.TS}} NOT NULL,
    updated_at    {{.TS}} NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email_key);

CREATE TABLE unit_roles (
    user_id    BIGINT NOT NULL REFERENCES users (id),
    unit_id    BIGINT NOT NULL REFERENCES units (id),
    role       TEXT NOT NULL CHECK (role IN ('member', 'agent', 'manager')),
    granted_by BIGINT REFERENCES users (id),
    granted_at {{.TS}} NOT NULL,
    PRIMARY KEY (user_id, unit_id, role)
);
CREATE INDEX unit_roles_unit_idx ON unit_roles (unit_id, role);

CREATE TABLE org_roles (
    user_id    BIGINT NOT NULL REFERENCES users (id),
    role       TEXT NOT NULL CHECK (role IN ('finance', 'auditor', 'admin')),
    granted_by BIGINT REFERENCES users (id),
    granted_at {{.TS}} NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    csrf_token   TEXT NOT NULL,
    created_at   {{.TS}} NOT NULL,
    expires_at   {{.TS}} NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE api_tokens (
    id          {{.ID}},
    user_id     BIGINT NOT NULL REFERENCES users (id),
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL,
    created_at  {{.TS}} NOT NULL,
    revoked_at  {{.TS}}
);
CREATE UNIQUE INDEX api_tokens_hash_key ON api_tokens (token_hash);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

CREATE TABLE login_failures (
    id          {{.ID}},
    subject     TEXT NOT NULL,
    failed_at   {{.TS}} NOT NULL
);
CREATE INDEX login_failures_subject_idx ON login_failures (subject, failed_at);

CREATE TABLE audit_events (
    id          {{.ID}},
    at          {{.TS}} NOT NULL,
    actor_id    BIGINT REFERENCES users (id),
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    action      TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT
);
CREATE INDEX audit_events_object_idx ON audit_events (object_type, object_id, id);
{{if .Postgres}}
CREATE FUNCTION tiski_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % is refused: the table is append-only', TG_OP, TG_TABLE_NAME;
END;
$$;
--bun:split
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION tiski_refuse_change();
{{else}}
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on audit_events is refused: the table is append-only');
END;
--bun:split
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'DELETE on audit_events is refused: the table is append-only');
END;
{{end}}
