-- Hash chains over journal entries and audit events (see the package
-- comment of audit/chain.go): each chained row has a link here, in the order
-- the rows were appended, holding the hash of the previous link and its own.
-- The rows themselves are never updated, so the links live beside them.
--
-- chain_heads holds the newest link of each chain; appending locks it, so
-- links are written one at a time and each sees the committed one before.
-- backfill_to is the newest row that was written before this migration:
-- those rows are chained, in id order, by the first append after it.
-- Links are append-only; a head only moves forward and is never deleted.
CREATE TABLE chain_heads (
    name        TEXT PRIMARY KEY,
    seq         BIGINT NOT NULL,
    hash        TEXT NOT NULL,
    backfill_to BIGINT NOT NULL
);
--bun:split
INSERT INTO chain_heads (name, seq, hash, backfill_to)
    SELECT 'journal_entries', 0, '', COALESCE(MAX(id), 0) FROM journal_entries;
--bun:split
INSERT INTO chain_heads (name, seq, hash, backfill_to)
    SELECT 'audit_events', 0, '', COALESCE(MAX(id), 0) FROM audit_events;
--bun:split
CREATE TABLE chain_links (
    chain     TEXT NOT NULL REFERENCES chain_heads (name),
    seq       BIGINT NOT NULL,
    row_id    BIGINT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL,
    PRIMARY KEY (chain, seq),
    UNIQUE (chain, row_id)
);
{{if .Postgres}}
--bun:split
CREATE FUNCTION tiski_chain_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.name <> OLD.name OR NEW.seq < OLD.seq OR (NEW.seq = OLD.seq AND NEW.hash <> OLD.hash)
        OR (NEW.backfill_to <> OLD.backfill_to AND NEW.backfill_to <> 0) THEN
        RAISE EXCEPTION 'UPDATE on chain_heads is refused: the head of chain % only moves forward', OLD.name;
    END IF;
    RETURN NEW;
END;
$$;
--bun:split
CREATE TRIGGER chain_heads_forward BEFORE UPDATE ON chain_heads
    FOR EACH ROW EXECUTE FUNCTION tiski_chain_head_forward();
--bun:split
CREATE TRIGGER chain_heads_no_delete BEFORE DELETE ON chain_heads
    FOR EACH ROW EXECUTE FUNCTION tiski_refuse_change();
--bun:split
CREATE TRIGGER chain_links_append_only BEFORE UPDATE OR DELETE ON chain_links
    FOR EACH ROW EXECUTE FUNCTION tiski_refuse_change();
--bun:split
CREATE TRIGGER chain_heads_no_truncate BEFORE TRUNCATE ON chain_heads
    FOR EACH STATEMENT EXECUTE FUNCTION tiski_refuse_change();
--bun:split
CREATE TRIGGER chain_links_no_truncate BEFORE TRUNCATE ON chain_links
    FOR EACH STATEMENT EXECUTE FUNCTION tiski_refuse_change();
{{else}}
--bun:split
CREATE TRIGGER chain_heads_forward BEFORE UPDATE ON chain_heads
WHEN NEW.name <> OLD.name OR NEW.seq < OLD.seq OR (NEW.seq = OLD.seq AND NEW.hash <> OLD.hash)
    OR (NEW.backfill_to <> OLD.backfill_to AND NEW.backfill_to <> 0)
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on chain_heads is refused: the head of a chain only moves forward');
END;
--bun:split
CREATE TRIGGER chain_heads_no_delete BEFORE DELETE ON chain_heads
BEGIN
    SELECT RAISE(ABORT, 'DELETE on chain_heads is refused: a chain keeps its head');
END;
--bun:split
CREATE TRIGGER chain_links_no_update BEFORE UPDATE ON chain_links
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on chain_links is refused: the table is append-only');
END;
--bun:split
CREATE TRIGGER chain_links_no_delete BEFORE DELETE ON chain_links
BEGIN
    SELECT RAISE(ABORT, 'DELETE on chain_links is refused: the table is append-only');
END;
{{end}}
