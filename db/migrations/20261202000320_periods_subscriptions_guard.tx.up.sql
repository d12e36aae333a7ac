-- The database guards periods and subscriptions (see
-- 20261202000300_ledger_guard for REPLACE and TRUNCATE):
--   period:       moves forward only, open -> review -> closed or open ->
--                 closed, and is closed exactly when it has a closing time;
--                 a closed period never changes. An update that changes
--                 nothing stays allowed: posting locks the period row so.
--   subscription: its price, rate, units, service and start never change;
--                 it is ended once, by an end date on or after its start.
-- Neither is deleted: deleting a closed period's row would reopen it.
{{if .Postgres}}
CREATE FUNCTION tiski_period_moves() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF to_jsonb(NEW) = to_jsonb(OLD) THEN
        RETURN NEW;
    END IF;
    IF NEW.month = OLD.month
        AND ((OLD.status = 'open' AND NEW.status IN ('review', 'closed')) OR (OLD.status = 'review' AND NEW.status = 'closed'))
        AND (NEW.status = 'closed') = (NEW.closed_at IS NOT NULL) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'UPDATE on periods is refused: period % cannot move from % to %; periods move forward only',
        OLD.month, OLD.status, NEW.status;
END;
$$;
--bun:split
CREATE TRIGGER periods_move_forward BEFORE UPDATE ON periods
    FOR EACH ROW EXECUTE FUNCTION tiski_period_moves();
--bun:split
CREATE FUNCTION tiski_subscription_moves() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.end_date IS NULL AND NEW.end_date >= NEW.start_date
        AND to_jsonb(NEW) - 'end_date' = to_jsonb(OLD) - 'end_date' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'UPDATE on subscriptions is refused: subscription % keeps its terms and is ended once', OLD.id;
END;
$$;
--bun:split
CREATE TRIGGER subscriptions_moves BEFORE UPDATE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION tiski_subscription_moves();
--bun:split
CREATE TRIGGER periods_no_delete BEFORE DELETE ON periods
    FOR EACH ROW EXECUTE FUNCTION tiski_refuse_change();
--bun:split
CREATE TRIGGER subscriptions_no_delete BEFORE DELETE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION tiski_refuse_change();
--bun:split
CREATE TRIGGER periods_no_truncate BEFORE TRUNCATE ON periods
    FOR EACH STATEMENT EXECUTE FUNCTION tiski_refuse_change();
--bun:split
CREATE TRIGGER subscriptions_no_truncate BEFORE TRUNCATE ON subscriptions
    FOR EACH STATEMENT EXECUTE FUNCTION tiski_refuse_change();
{{else}}
CREATE TRIGGER periods_move_forward BEFORE UPDATE ON periods
WHEN NOT (
       (NEW.month IS OLD.month AND NEW.status IS OLD.status AND NEW.changed_by IS OLD.changed_by
        AND NEW.changed_at IS OLD.changed_at AND NEW.closed_at IS OLD.closed_at)
    OR (NEW.month IS OLD.month
        AND ((OLD.status = 'open' AND NEW.status IN ('review', 'closed')) OR (OLD.status = 'review' AND NEW.status = 'closed'))
        AND (NEW.status = 'closed') = (NEW.closed_at IS NOT NULL)))
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on periods is refused: periods move forward only and a closed period never changes');
END;
--bun:split
-- SQLite cannot compare whole rows: a column added to subscriptions must be
-- added here to stay fixed.
CREATE TRIGGER subscriptions_moves BEFORE UPDATE ON subscriptions
WHEN NOT (OLD.end_date IS NULL AND NEW.end_date IS NOT NULL AND NEW.end_date >= NEW.start_date
          AND NEW.id IS OLD.id AND NEW.request_id IS OLD.request_id AND NEW.consumer_unit_id IS OLD.consumer_unit_id
          AND NEW.provider_unit_id IS OLD.provider_unit_id AND NEW.service_id IS OLD.service_id
          AND NEW.rate_id IS OLD.rate_id AND NEW.monthly_price_minor IS OLD.monthly_price_minor
          AND NEW.currency IS OLD.currency AND NEW.start_date IS OLD.start_date AND NEW.created_at IS OLD.created_at)
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on subscriptions is refused: a subscription keeps its terms and is ended once');
END;
--bun:split
CREATE TRIGGER periods_no_delete BEFORE DELETE ON periods
BEGIN
    SELECT RAISE(ABORT, 'DELETE on periods is refused: a period stays on the record');
END;
--bun:split
CREATE TRIGGER subscriptions_no_delete BEFORE DELETE ON subscriptions
BEGIN
    SELECT RAISE(ABORT, 'DELETE on subscriptions is refused: a subscription is ended, not deleted');
END;
{{end}}
