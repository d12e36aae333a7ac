-- Overrun approvals: a fulfilment that costs more than its approved
-- estimate beyond the tolerance posts only after a manager of the consumer
-- unit approves the amount. A row is a decision and never changes; a later,
-- larger amount needs a new row.
CREATE TABLE overrun_approvals (
    id             {{.ID}},
    request_id     BIGINT NOT NULL REFERENCES requests (id),
    amount_minor   BIGINT NOT NULL CHECK (amount_minor > 0),
    estimate_minor BIGINT NOT NULL,
    currency       TEXT NOT NULL,
    approved_by    BIGINT NOT NULL REFERENCES users (id),
    approved_at    {{.TS}} NOT NULL
);
CREATE INDEX overrun_approvals_request_idx ON overrun_approvals (request_id, amount_minor);

-- How far (percent of the estimate) a fulfilment may exceed its estimate
-- before it needs an overrun approval.
INSERT INTO settings (key, value) VALUES ('overrun_tolerance_pct', '10') ON CONFLICT (key) DO NOTHING;
--bun:split
-- An approval is a decision on the record: never changed, never removed.
{{if .Postgres}}
CREATE TRIGGER overrun_approvals_append_only BEFORE UPDATE OR DELETE ON overrun_approvals
    FOR EACH ROW EXECUTE FUNCTION tiski_refuse_change();
--bun:split
CREATE TRIGGER overrun_approvals_no_truncate BEFORE TRUNCATE ON overrun_approvals
    FOR EACH STATEMENT EXECUTE FUNCTION tiski_refuse_change();
{{else}}
CREATE TRIGGER overrun_approvals_no_update BEFORE UPDATE ON overrun_approvals
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on overrun_approvals is refused: an overrun approval is a decision on the record');
END;
--bun:split
CREATE TRIGGER overrun_approvals_no_delete BEFORE DELETE ON overrun_approvals
BEGIN
    SELECT RAISE(ABORT, 'DELETE on overrun_approvals is refused: an overrun approval is a decision on the record');
END;
{{end}}
