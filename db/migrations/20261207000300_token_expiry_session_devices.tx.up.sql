-- API tokens expire and say when they were last used; sessions say which
-- device and address they belong to and when they were last seen, and get a
-- public id by which their owner can end one (the token hash stays private).
-- A token issued before this migration has no expires_at: it expires the
-- default lifetime after it was created (auth.APIToken.Expiry).
ALTER TABLE api_tokens ADD COLUMN expires_at {{.TS}};
ALTER TABLE api_tokens ADD COLUMN last_used_at {{.TS}};
ALTER TABLE sessions ADD COLUMN public_id TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN client_ip TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN last_seen_at {{.TS}};
UPDATE sessions SET public_id = substr(token_hash, 1, 32) WHERE public_id IS NULL;
CREATE UNIQUE INDEX sessions_public_id_key ON sessions (public_id);
