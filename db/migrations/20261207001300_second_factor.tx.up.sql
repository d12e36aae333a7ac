-- A second factor for the people who can move or read money (issue 17,
-- item 2): a TOTP secret per user (confirmed once its owner has given a
-- code from it; last_step is the newest time step a code was accepted for,
-- so a code cannot be used twice in its window), single-use recovery codes
-- (only their hashes), and the short-lived challenge a password sign-in
-- answers with when a code is still needed (only its hash).
-- A session records how it was started (password or sso) and whether a
-- second factor was given, so a money-role user who signed in with a
-- password and no code reaches only the enrolment page.
CREATE TABLE totp_factors (
    user_id      BIGINT PRIMARY KEY REFERENCES users (id),
    secret       TEXT NOT NULL,
    created_at   {{.TS}} NOT NULL,
    confirmed_at {{.TS}},
    last_step    BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE recovery_codes (
    id        {{.ID}},
    user_id   BIGINT NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,
    used_at   {{.TS}}
);
CREATE UNIQUE INDEX recovery_codes_hash_key ON recovery_codes (code_hash);
CREATE INDEX recovery_codes_user_idx ON recovery_codes (user_id);

CREATE TABLE sign_in_challenges (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id),
    created_at {{.TS}} NOT NULL,
    expires_at {{.TS}} NOT NULL,
    failures   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sign_in_challenges_user_idx ON sign_in_challenges (user_id);

ALTER TABLE sessions ADD COLUMN method TEXT NOT NULL DEFAULT 'password';
ALTER TABLE sessions ADD COLUMN second_factor BOOLEAN NOT NULL DEFAULT FALSE;
