-- The database guards the rows that explain the ledger: charges, disputes
-- and adjustments. Each may make exactly the moves billing makes, in order,
-- and nothing else; none is deleted (on SQLite that also refuses INSERT OR
-- REPLACE, see 20261202000300_ledger_guard):
--   charge:     born posted; amount and pricing snapshot never change; its
--               status follows its one dispute: posted -> disputed while the
--               dispute is open, then credited (accepted) or back to posted
--               (rejected), never again.
--   dispute:    born open; settled once (accepted or rejected, by someone,
--               at a time); an accepted one is then linked to its credit
--               entry once; a settled dispute never changes otherwise.
--   adjustment: born pending, or posted when it is within the approval limit;
--               a pending one is decided once (posted or rejected, by someone,
--               at a time); a posted one is then linked to its entry once.
{{if .Postgres}}
CREATE FUNCTION tiski_charge_born_posted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'posted' THEN
        RAISE EXCEPTION 'INSERT on charges is refused: a charge is born posted, not %', NEW.status;
    END IF;
    RETURN NEW;
END;
$$;
--bun:split
CREATE TRIGGER charges_born_posted BEFORE INSERT ON charges
    FOR EACH ROW EXECUTE FUNCTION tiski_charge_born_posted();
--bun:split
-- Comparing the rows as JSON without the moving column keeps a column added
-- later fixed too, until a migration says it may move.
CREATE FUNCTION tiski_charge_moves() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    dispute TEXT;
BEGIN
    IF to_jsonb(NEW) - 'status' <> to_jsonb(OLD) - 'status' THEN
        RAISE EXCEPTION 'UPDATE on charges is refused: the amount and pricing snapshot of charge % cannot change', OLD.id;
    END IF;
    IF NEW.status = OLD.status THEN
        RETURN NEW;
    END IF;
    SELECT status INTO dispute FROM disputes WHERE charge_id = OLD.id;
    IF (OLD.status = 'posted' AND NEW.status = 'disputed' AND dispute = 'open')
        OR (OLD.status = 'disputed' AND NEW.status = 'credited' AND dispute = 'accepted')
        OR (OLD.status = 'disputed' AND NEW.status = 'posted' AND dispute = 'rejected') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'UPDATE on charges is refused: charge % cannot move from % to % while its dispute is %',
        OLD.id, OLD.status, NEW.status, COALESCE(dispute, 'not raised');
END;
$$;
--bun:split
CREATE TRIGGER charges_moves BEFORE UPDATE ON charges
    FOR EACH ROW EXECUTE FUNCTION tiski_charge_moves();
--bun:split
CREATE FUNCTION tiski_dispute_born_open() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'open' OR NEW.entry_id IS NOT NULL OR NEW.resolved_by IS NOT NULL OR NEW.resolved_at IS NOT NULL THEN
        RAISE EXCEPTION 'INSERT on disputes is refused: a dispute is born open and unsettled';
    END IF;
    RETURN NEW;
END;
$$;
--bun:split
CREATE TRIGGER disputes_born_open BEFORE INSERT ON disputes
    FOR EACH ROW EXECUTE FUNCTION tiski_dispute_born_open();
--bun:split
CREATE FUNCTION tiski_dispute_moves() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'open' AND NEW.status IN ('accepted', 'rejected')
        AND NEW.resolved_by IS NOT NULL AND NEW.resolved_at IS NOT NULL
        AND to_jsonb(NEW) - ARRAY['status', 'credit_minor', 'resolved_by', 'resolved_at', 'note']
          = to_jsonb(OLD) - ARRAY['status', 'credit_minor', 'resolved_by', 'resolved_at', 'note'] THEN
        RETURN NEW;
    END IF;
    IF OLD.status = 'accepted' AND OLD.entry_id IS NULL AND NEW.entry_id IS NOT NULL
        AND to_jsonb(NEW) - 'entry_id' = to_jsonb(OLD) - 'entry_id' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'UPDATE on disputes is refused: dispute % is %; it is settled once and never changes after', OLD.id, OLD.status;
END;
$$;
--bun:split
CREATE TRIGGER disputes_moves BEFORE UPDATE ON disputes
    FOR EACH ROW EXECUTE FUNCTION tiski_dispute_moves();
--bun:split
CREATE FUNCTION tiski_adjustment_born_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status NOT IN ('pending', 'posted') OR NEW.entry_id IS NOT NULL OR NEW.decided_by IS NOT NULL OR NEW.decided_at IS NOT NULL THEN
        RAISE EXCEPTION 'INSERT on adjustments is refused: an adjustment is born pending or posted, undecided and unlinked';
    END IF;
    RETURN NEW;
END;
$$;
--bun:split
CREATE TRIGGER adjustments_born_pending BEFORE INSERT ON adjustments
    FOR EACH ROW EXECUTE FUNCTION tiski_adjustment_born_pending();
--bun:split
CREATE FUNCTION tiski_adjustment_moves() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'pending' AND NEW.status IN ('posted', 'rejected')
        AND NEW.decided_by IS NOT NULL AND NEW.decided_at IS NOT NULL
        AND to_jsonb(NEW) - ARRAY['status', 'decided_by', 'decided_at']
          = to_jsonb(OLD) - ARRAY['status', 'decided_by', 'decided_at'] THEN
        RETURN NEW;
    END IF;
    IF OLD.status = 'posted' AND OLD.entry_id IS NULL AND NEW.entry_id IS NOT NULL
        AND to_jsonb(NEW) - 'entry_id' = to_jsonb(OLD) - 'entry_id' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'UPDATE on adjustments is refused: adjustment % is %; it is decided once and never changes after', OLD.id, OLD.status;
END;
$$;
--bun:split
CREATE TRIGGER adjustments_moves BEFORE UPDATE ON adjustments
    FOR EACH ROW EXECUTE FUNCTION tiski_adjustment_moves();
--bun:split
CREATE TRIGGER charges_no_delete BEFORE DELETE ON charges
    FOR EACH ROW EXECUTE FUNCTION tiski_refuse_change();
--bun:split
CREATE TRIGGER disputes_no_delete BEFORE DELETE ON disputes
    FOR EACH ROW EXECUTE FUNCTION tiski_refuse_change();
--bun:split
CREATE TRIGGER adjustments_no_delete BEFORE DELETE ON adjustments
    FOR EACH ROW EXECUTE FUNCTION tiski_refuse_change();
--bun:split
CREATE TRIGGER charges_no_truncate BEFORE TRUNCATE ON charges
    FOR EACH STATEMENT EXECUTE FUNCTION tiski_refuse_change();
--bun:split
CREATE TRIGGER disputes_no_truncate BEFORE TRUNCATE ON disputes
    FOR EACH STATEMENT EXECUTE FUNCTION tiski_refuse_change();
--bun:split
CREATE TRIGGER adjustments_no_truncate BEFORE TRUNCATE ON adjustments
    FOR EACH STATEMENT EXECUTE FUNCTION tiski_refuse_change();
{{else}}
CREATE TRIGGER charges_born_posted BEFORE INSERT ON charges
WHEN NEW.status <> 'posted'
BEGIN
    SELECT RAISE(ABORT, 'INSERT on charges is refused: a charge is born posted');
END;
--bun:split
-- SQLite cannot compare whole rows: a column added to charges must be added
-- here to stay fixed.
CREATE TRIGGER charges_snapshot_fixed BEFORE UPDATE ON charges
WHEN NEW.id IS NOT OLD.id OR NEW.source_key IS NOT OLD.source_key OR NEW.request_id IS NOT OLD.request_id
    OR NEW.consumer_unit_id IS NOT OLD.consumer_unit_id OR NEW.provider_unit_id IS NOT OLD.provider_unit_id
    OR NEW.service_id IS NOT OLD.service_id OR NEW.rate_id IS NOT OLD.rate_id OR NEW.period IS NOT OLD.period
    OR NEW.late_from IS NOT OLD.late_from OR NEW.quantity IS NOT OLD.quantity
    OR NEW.unit_price_minor IS NOT OLD.unit_price_minor OR NEW.amount_minor IS NOT OLD.amount_minor
    OR NEW.currency IS NOT OLD.currency OR NEW.showback IS NOT OLD.showback OR NEW.entry_id IS NOT OLD.entry_id
    OR NEW.description IS NOT OLD.description OR NEW.created_at IS NOT OLD.created_at
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on charges is refused: a charge''s amount and pricing snapshot cannot change');
END;
--bun:split
CREATE TRIGGER charges_status_follows_dispute BEFORE UPDATE OF status ON charges
WHEN NEW.status IS NOT OLD.status AND NOT EXISTS (
    SELECT 1 FROM disputes AS d WHERE d.charge_id = OLD.id AND (
           (OLD.status = 'posted' AND NEW.status = 'disputed' AND d.status = 'open')
        OR (OLD.status = 'disputed' AND NEW.status = 'credited' AND d.status = 'accepted')
        OR (OLD.status = 'disputed' AND NEW.status = 'posted' AND d.status = 'rejected')))
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on charges is refused: a charge''s status follows its dispute, forward only');
END;
--bun:split
CREATE TRIGGER disputes_born_open BEFORE INSERT ON disputes
WHEN NEW.status <> 'open' OR NEW.entry_id IS NOT NULL OR NEW.resolved_by IS NOT NULL OR NEW.resolved_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'INSERT on disputes is refused: a dispute is born open and unsettled');
END;
--bun:split
CREATE TRIGGER disputes_moves BEFORE UPDATE ON disputes
WHEN NOT (NEW.id IS OLD.id AND NEW.charge_id IS OLD.charge_id AND NEW.raised_by IS OLD.raised_by
          AND NEW.reason IS OLD.reason AND NEW.created_at IS OLD.created_at)
  OR NOT (
        (OLD.status = 'open' AND NEW.status IN ('accepted', 'rejected')
         AND NEW.resolved_by IS NOT NULL AND NEW.resolved_at IS NOT NULL AND NEW.entry_id IS OLD.entry_id)
     OR (OLD.status = 'accepted' AND NEW.status IS OLD.status AND OLD.entry_id IS NULL AND NEW.entry_id IS NOT NULL
         AND NEW.credit_minor IS OLD.credit_minor AND NEW.resolved_by IS OLD.resolved_by
         AND NEW.resolved_at IS OLD.resolved_at AND NEW.note IS OLD.note))
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on disputes is refused: a dispute is settled once and never changes after');
END;
--bun:split
CREATE TRIGGER adjustments_born_pending BEFORE INSERT ON adjustments
WHEN NEW.status NOT IN ('pending', 'posted') OR NEW.entry_id IS NOT NULL OR NEW.decided_by IS NOT NULL OR NEW.decided_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'INSERT on adjustments is refused: an adjustment is born pending or posted, undecided and unlinked');
END;
--bun:split
CREATE TRIGGER adjustments_moves BEFORE UPDATE ON adjustments
WHEN NOT (NEW.id IS OLD.id AND NEW.debit_unit_id IS OLD.debit_unit_id AND NEW.credit_unit_id IS OLD.credit_unit_id
          AND NEW.amount_minor IS OLD.amount_minor AND NEW.currency IS OLD.currency AND NEW.month IS OLD.month
          AND NEW.reason IS OLD.reason AND NEW.created_by IS OLD.created_by AND NEW.created_at IS OLD.created_at)
  OR NOT (
        (OLD.status = 'pending' AND NEW.status IN ('posted', 'rejected')
         AND NEW.decided_by IS NOT NULL AND NEW.decided_at IS NOT NULL AND NEW.entry_id IS OLD.entry_id)
     OR (OLD.status = 'posted' AND NEW.status IS OLD.status AND OLD.entry_id IS NULL AND NEW.entry_id IS NOT NULL
         AND NEW.decided_by IS OLD.decided_by AND NEW.decided_at IS OLD.decided_at))
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on adjustments is refused: an adjustment is decided once and never changes after');
END;
--bun:split
CREATE TRIGGER charges_no_delete BEFORE DELETE ON charges
BEGIN
    SELECT RAISE(ABORT, 'DELETE on charges is refused: a charge is corrected by its dispute or an adjustment');
END;
--bun:split
CREATE TRIGGER disputes_no_delete BEFORE DELETE ON disputes
BEGIN
    SELECT RAISE(ABORT, 'DELETE on disputes is refused: a dispute stays on the record');
END;
--bun:split
CREATE TRIGGER adjustments_no_delete BEFORE DELETE ON adjustments
BEGIN
    SELECT RAISE(ABORT, 'DELETE on adjustments is refused: an adjustment stays on the record');
END;
{{end}}
