-- The database keeps periods closing in order, as billing.MovePeriod does:
-- a period row becomes closed, or is inserted closed, only while no earlier
-- month's row is open or in review. Months without a row are the
-- application's to judge (one before the organisation's first month, or
-- before a closed month, counts as closed), and going to review needs no
-- order: finance prepares several ended months at once, and only closing
-- fixes the order. A row that is already closed and stays so (posting
-- locks the period row by updating it to itself) is not checked again.
{{if .Postgres}}
CREATE FUNCTION tiski_period_order() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    earlier TEXT;
BEGIN
    IF NEW.status <> 'closed' OR (TG_OP = 'UPDATE' AND OLD.status = 'closed') THEN
        RETURN NEW;
    END IF;
    SELECT MIN(month) INTO earlier FROM periods WHERE month < NEW.month AND status <> 'closed';
    IF earlier IS NOT NULL THEN
        RAISE EXCEPTION '% on periods is refused: period % cannot close while the earlier period % is not closed',
            TG_OP, NEW.month, earlier;
    END IF;
    RETURN NEW;
END;
$$;
--bun:split
CREATE TRIGGER periods_close_in_order BEFORE INSERT OR UPDATE ON periods
    FOR EACH ROW EXECUTE FUNCTION tiski_period_order();
{{else}}
CREATE TRIGGER periods_close_in_order_on_update BEFORE UPDATE ON periods
WHEN NEW.status = 'closed' AND OLD.status IS NOT 'closed'
    AND EXISTS (SELECT 1 FROM periods p WHERE p.month < NEW.month AND p.status <> 'closed')
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on periods is refused: a period cannot close while an earlier period is not closed');
END;
--bun:split
CREATE TRIGGER periods_close_in_order_on_insert BEFORE INSERT ON periods
WHEN NEW.status = 'closed'
    AND EXISTS (SELECT 1 FROM periods p WHERE p.month < NEW.month AND p.status <> 'closed')
BEGIN
    SELECT RAISE(ABORT, 'INSERT on periods is refused: a period cannot be inserted closed while an earlier period is not closed');
END;
{{end}}
