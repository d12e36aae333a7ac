-- One-time password reset links. Only the hash of a link's token is kept;
-- a link works once and only until it expires.
CREATE TABLE password_resets (
    id         {{.ID}},
    user_id    BIGINT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL,
    created_at {{.TS}} NOT NULL,
    expires_at {{.TS}} NOT NULL,
    used_at    {{.TS}}
);
CREATE UNIQUE INDEX password_resets_hash_key ON password_resets (token_hash);
CREATE INDEX password_resets_user_idx ON password_resets (user_id);
