-- GL accounts (issue 12, item 3). Finance maps a service to the GL account
-- that carries the consumer's expense and the one that carries the
-- provider's recovery; service_id 0 is the organisation's default, used for
-- a service without a mapping and for adjustments. Each posting keeps the
-- GL account in force when it was written, so a later change of mapping
-- never rewrites the books: postings are append-only. Postings written
-- before this migration carry none (NULL).
CREATE TABLE gl_mappings (
    service_id       BIGINT PRIMARY KEY,
    expense_account  TEXT NOT NULL,
    recovery_account TEXT NOT NULL,
    updated_by       BIGINT REFERENCES users (id),
    updated_at       {{.TS}} NOT NULL
);
--bun:split
INSERT INTO gl_mappings (service_id, expense_account, recovery_account, updated_at)
VALUES (0, '6800', '3800', CURRENT_TIMESTAMP);
--bun:split
ALTER TABLE postings ADD COLUMN gl_account TEXT;
--bun:split
-- The journal names the source of every entry: a dispute's or an
-- adjustment's is found by its entry.
CREATE INDEX disputes_entry_idx ON disputes (entry_id);
--bun:split
CREATE INDEX adjustments_entry_idx ON adjustments (entry_id);
