-- OpenID Connect single sign-on (issue 17, item 1): the identity a provider
-- vouches for (its issuer and the subject it names the person by), linked
-- to one Tiski user, so a changed e-mail at the provider still finds them;
-- and the sign-ins under way: only the hash of the state, the nonce and the
-- PKCE verifier the callback needs, bound to the browser that started it
-- (the hash of a random cookie), kept for a few minutes and used once.
CREATE TABLE sso_identities (
    issuer    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    user_id   BIGINT NOT NULL REFERENCES users (id),
    linked_at {{.TS}} NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE UNIQUE INDEX sso_identities_user_key ON sso_identities (issuer, user_id);

CREATE TABLE sso_flows (
    state_hash   TEXT PRIMARY KEY,
    browser_hash TEXT NOT NULL,
    nonce        TEXT NOT NULL,
    verifier     TEXT NOT NULL,
    next_path    TEXT NOT NULL,
    created_at   {{.TS}} NOT NULL,
    expires_at   {{.TS}} NOT NULL
);
CREATE INDEX sso_flows_expiry_idx ON sso_flows (expires_at);
