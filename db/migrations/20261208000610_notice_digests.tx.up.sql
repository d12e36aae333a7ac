-- A per-user choice, for the kinds that have one (a new request in the
-- unit's queue), between an e-mail for each event and one daily digest.
ALTER TABLE notification_prefs ADD COLUMN digest BOOLEAN NOT NULL DEFAULT FALSE;
