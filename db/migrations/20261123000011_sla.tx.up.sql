-- Service levels on business hours: each provider unit's calendar, the
-- pauses of each request's SLA clock, when each clock will cross 75 % of its
-- target (risk_from), when it was marked at risk or breached (once), and the
-- business minutes first response and resolution took, for quality reports.
CREATE TABLE unit_calendars (
    unit_id       BIGINT PRIMARY KEY REFERENCES units (id),
    calendar_json TEXT NOT NULL,
    updated_by    BIGINT REFERENCES users (id),
    updated_at    {{.TS}} NOT NULL
);

CREATE TABLE request_pauses (
    id         {{.ID}},
    request_id BIGINT NOT NULL REFERENCES requests (id),
    paused_at  {{.TS}} NOT NULL,
    resumed_at {{.TS}}
);
CREATE INDEX request_pauses_request_idx ON request_pauses (request_id, id);

ALTER TABLE requests ADD COLUMN first_response_risk_from {{.TS}};
--bun:split
ALTER TABLE requests ADD COLUMN resolution_risk_from {{.TS}};
--bun:split
ALTER TABLE requests ADD COLUMN first_response_at_risk_at {{.TS}};
--bun:split
ALTER TABLE requests ADD COLUMN first_response_breached_at {{.TS}};
--bun:split
ALTER TABLE requests ADD COLUMN resolution_at_risk_at {{.TS}};
--bun:split
ALTER TABLE requests ADD COLUMN resolution_breached_at {{.TS}};
--bun:split
ALTER TABLE requests ADD COLUMN first_response_business_minutes INTEGER;
--bun:split
ALTER TABLE requests ADD COLUMN resolution_business_minutes INTEGER;
--bun:split
CREATE INDEX requests_open_due_idx ON requests (status, resolution_due_at);
