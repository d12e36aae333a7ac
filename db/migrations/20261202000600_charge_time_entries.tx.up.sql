-- Every billable minute is charged once (issue 10): a charge for hourly work
-- names the time entries it covers, and a time entry is covered by one
-- charge at most (its primary key). A re-resolution after a reopen charges
-- only the entries no charge covers yet. The link is written with its charge
-- and never changes: no update, delete, replace (SQLite's REPLACE fires the
-- DELETE trigger, see 20261202000300_ledger_guard) or truncate. A link joins
-- a charge and a billable entry of the same request, and an entry a charge
-- covers no longer changes either.
CREATE TABLE charge_time_entries (
    time_entry_id BIGINT PRIMARY KEY REFERENCES time_entries (id),
    charge_id     BIGINT NOT NULL REFERENCES charges (id)
);
CREATE INDEX charge_time_entries_charge_idx ON charge_time_entries (charge_id);
-- Hourly charges posted before this table each covered the billable entries
-- logged by then at the rate the charge is for (the rate in force on the
-- entry's day, or the quote for a day before the first price). Entries
-- logged after an earlier resolution were never charged and stay uncovered,
-- so the next resolution charges them.
INSERT INTO charge_time_entries (time_entry_id, charge_id)
SELECT t.id, c.id
  FROM time_entries t
  JOIN requests q ON q.id = t.request_id AND q.pricing_model = 'hourly'
  JOIN charges c ON c.request_id = t.request_id AND c.created_at >= t.created_at
   AND c.rate_id = COALESCE((SELECT r.id FROM service_rates r
                              WHERE r.service_id = q.service_id AND r.effective_from <= t.work_date
                              ORDER BY r.effective_from DESC LIMIT 1), q.rate_id)
 WHERE t.billable;
{{if .Postgres}}
--bun:split
CREATE FUNCTION tiski_charge_time_entry_matches() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM time_entries t JOIN charges c ON c.request_id = t.request_id
                    WHERE t.id = NEW.time_entry_id AND c.id = NEW.charge_id AND t.billable) THEN
        RAISE EXCEPTION 'INSERT on charge_time_entries is refused: time entry % is not billable time of the request charge % is for',
            NEW.time_entry_id, NEW.charge_id;
    END IF;
    RETURN NEW;
END;
$$;
--bun:split
CREATE TRIGGER charge_time_entries_match BEFORE INSERT ON charge_time_entries
    FOR EACH ROW EXECUTE FUNCTION tiski_charge_time_entry_matches();
--bun:split
CREATE TRIGGER charge_time_entries_append_only BEFORE UPDATE OR DELETE ON charge_time_entries
    FOR EACH ROW EXECUTE FUNCTION tiski_refuse_change();
--bun:split
CREATE TRIGGER charge_time_entries_no_truncate BEFORE TRUNCATE ON charge_time_entries
    FOR EACH STATEMENT EXECUTE FUNCTION tiski_refuse_change();
--bun:split
CREATE FUNCTION tiski_charged_time_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM charge_time_entries WHERE time_entry_id = OLD.id) THEN
        RAISE EXCEPTION '% on time_entries is refused: time entry % is charged', TG_OP, OLD.id;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;
--bun:split
CREATE TRIGGER time_entries_charged_fixed BEFORE UPDATE OR DELETE ON time_entries
    FOR EACH ROW EXECUTE FUNCTION tiski_charged_time_fixed();
--bun:split
CREATE TRIGGER time_entries_no_truncate BEFORE TRUNCATE ON time_entries
    FOR EACH STATEMENT EXECUTE FUNCTION tiski_refuse_change();
{{else}}
--bun:split
CREATE TRIGGER charge_time_entries_match BEFORE INSERT ON charge_time_entries
WHEN NOT EXISTS (SELECT 1 FROM time_entries t JOIN charges c ON c.request_id = t.request_id
                  WHERE t.id = NEW.time_entry_id AND c.id = NEW.charge_id AND t.billable)
BEGIN
    SELECT RAISE(ABORT, 'INSERT on charge_time_entries is refused: the time entry is not billable time of the request the charge is for');
END;
--bun:split
CREATE TRIGGER charge_time_entries_no_update BEFORE UPDATE ON charge_time_entries
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on charge_time_entries is refused: the table is append-only');
END;
--bun:split
CREATE TRIGGER charge_time_entries_no_delete BEFORE DELETE ON charge_time_entries
BEGIN
    SELECT RAISE(ABORT, 'DELETE on charge_time_entries is refused: the table is append-only');
END;
--bun:split
CREATE TRIGGER time_entries_charged_no_update BEFORE UPDATE ON time_entries
WHEN EXISTS (SELECT 1 FROM charge_time_entries WHERE time_entry_id = OLD.id)
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on time_entries is refused: the time entry is charged');
END;
--bun:split
CREATE TRIGGER time_entries_charged_no_delete BEFORE DELETE ON time_entries
WHEN EXISTS (SELECT 1 FROM charge_time_entries WHERE time_entry_id = OLD.id)
BEGIN
    SELECT RAISE(ABORT, 'DELETE on time_entries is refused: the time entry is charged');
END;
{{end}}
