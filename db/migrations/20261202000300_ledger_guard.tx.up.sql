-- The database guards the ledger (DESIGN: "posted rows cannot be updated,
-- deleted, replaced or truncated; an unbalanced entry cannot commit").
--
-- An entry is written with its postings in one transaction and then sealed:
-- its row in journal_entry_seals is accepted only when the postings balance
-- (two or more, one currency, summing to zero), and a sealed entry takes no
-- further posting. An entry cannot commit unsealed, so every committed entry
-- balances and is closed: PostgreSQL checks the seal at commit with a
-- deferred constraint trigger; SQLite, which has no deferred triggers, with
-- a deferred foreign key from journal_entry_seal_due, a row written for each
-- new entry, to the entry's seal.
--
-- REPLACE and upserts: on SQLite, INSERT OR REPLACE deletes the row it
-- replaces without firing DELETE triggers unless recursive_triggers is on;
-- db.Open turns it on for every connection (see parseURL), so the DELETE
-- triggers below refuse a replacement too. An upsert's DO UPDATE fires the
-- UPDATE triggers on both engines. PostgreSQL's TRUNCATE fires no row
-- trigger; statement triggers refuse it.
CREATE TABLE journal_entry_seals (
    entry_id BIGINT PRIMARY KEY REFERENCES journal_entries (id)
);
-- Entries posted before the guard was in place are sealed as they are;
-- `tiski verify` still checks that they balance.
INSERT INTO journal_entry_seals (entry_id) SELECT id FROM journal_entries;
{{if .Postgres}}
--bun:split
CREATE FUNCTION tiski_seal_balanced_entry() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    legs       BIGINT;
    total      NUMERIC;
    currencies BIGINT;
BEGIN
    SELECT COUNT(*), COALESCE(SUM(amount_minor), 0), COUNT(DISTINCT currency)
      INTO legs, total, currencies FROM postings WHERE entry_id = NEW.entry_id;
    IF legs < 2 OR total <> 0 OR currencies <> 1 THEN
        RAISE EXCEPTION 'journal entry % does not balance: % postings in % currencies sum to %',
            NEW.entry_id, legs, currencies, total;
    END IF;
    RETURN NEW;
END;
$$;
--bun:split
CREATE TRIGGER journal_entry_seals_balanced BEFORE INSERT ON journal_entry_seals
    FOR EACH ROW EXECUTE FUNCTION tiski_seal_balanced_entry();
--bun:split
-- Only the transaction that wrote an entry sees it unsealed: another
-- transaction sees it sealed or (not yet committed) not at all, so it can
-- never add a leg to an entry, not even one that is still being written.
CREATE FUNCTION tiski_posting_into_open_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM journal_entries WHERE id = NEW.entry_id) THEN
        RAISE EXCEPTION 'posting into journal entry % is refused: postings are written with their entry', NEW.entry_id;
    END IF;
    IF EXISTS (SELECT 1 FROM journal_entry_seals WHERE entry_id = NEW.entry_id) THEN
        RAISE EXCEPTION 'posting into journal entry % is refused: the entry is posted', NEW.entry_id;
    END IF;
    RETURN NEW;
END;
$$;
--bun:split
CREATE TRIGGER postings_into_open_entry BEFORE INSERT ON postings
    FOR EACH ROW EXECUTE FUNCTION tiski_posting_into_open_entry();
--bun:split
CREATE FUNCTION tiski_entry_sealed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM journal_entry_seals WHERE entry_id = NEW.id) THEN
        RAISE EXCEPTION 'journal entry % cannot commit unsealed: its postings must balance', NEW.id;
    END IF;
    RETURN NULL;
END;
$$;
--bun:split
CREATE CONSTRAINT TRIGGER journal_entries_sealed_at_commit AFTER INSERT ON journal_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tiski_entry_sealed();
--bun:split
CREATE TRIGGER journal_entry_seals_append_only BEFORE UPDATE OR DELETE ON journal_entry_seals
    FOR EACH ROW EXECUTE FUNCTION tiski_refuse_change();
--bun:split
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
    FOR EACH STATEMENT EXECUTE FUNCTION tiski_refuse_change();
--bun:split
CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings
    FOR EACH STATEMENT EXECUTE FUNCTION tiski_refuse_change();
--bun:split
CREATE TRIGGER journal_entry_seals_no_truncate BEFORE TRUNCATE ON journal_entry_seals
    FOR EACH STATEMENT EXECUTE FUNCTION tiski_refuse_change();
--bun:split
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION tiski_refuse_change();
{{else}}
--bun:split
CREATE TABLE journal_entry_seal_due (
    entry_id INTEGER PRIMARY KEY REFERENCES journal_entry_seals (entry_id) DEFERRABLE INITIALLY DEFERRED
);
--bun:split
CREATE TRIGGER journal_entries_seal_due AFTER INSERT ON journal_entries
BEGIN
    INSERT INTO journal_entry_seal_due (entry_id) VALUES (NEW.id);
END;
--bun:split
CREATE TRIGGER journal_entry_seals_balanced BEFORE INSERT ON journal_entry_seals
WHEN (SELECT COUNT(*) < 2 OR COALESCE(SUM(amount_minor), 0) <> 0 OR COUNT(DISTINCT currency) <> 1
      FROM postings WHERE entry_id = NEW.entry_id)
BEGIN
    SELECT RAISE(ABORT, 'INSERT on journal_entry_seals is refused: the entry does not balance');
END;
--bun:split
-- On SQLite one writer at a time sees the database, so an entry without a
-- seal is one the current transaction is writing.
CREATE TRIGGER postings_into_open_entry BEFORE INSERT ON postings
WHEN EXISTS (SELECT 1 FROM journal_entry_seals WHERE entry_id = NEW.entry_id)
BEGIN
    SELECT RAISE(ABORT, 'INSERT on postings is refused: the journal entry is posted');
END;
--bun:split
CREATE TRIGGER journal_entry_seals_no_update BEFORE UPDATE ON journal_entry_seals
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on journal_entry_seals is refused: the ledger is append-only');
END;
--bun:split
CREATE TRIGGER journal_entry_seals_no_delete BEFORE DELETE ON journal_entry_seals
BEGIN
    SELECT RAISE(ABORT, 'DELETE on journal_entry_seals is refused: the ledger is append-only');
END;
--bun:split
CREATE TRIGGER journal_entry_seal_due_no_update BEFORE UPDATE ON journal_entry_seal_due
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on journal_entry_seal_due is refused: the ledger is append-only');
END;
--bun:split
CREATE TRIGGER journal_entry_seal_due_no_delete BEFORE DELETE ON journal_entry_seal_due
BEGIN
    SELECT RAISE(ABORT, 'DELETE on journal_entry_seal_due is refused: the ledger is append-only');
END;
{{end}}
