-- The double-entry ledger: an account per unit, append-only journal entries
-- and postings, accounting periods, and the charges that explain entries.
CREATE TABLE accounts (
    id         {{.ID}},
    unit_id    BIGINT NOT NULL REFERENCES units (id),
    created_at {{.TS}} NOT NULL
);
CREATE UNIQUE INDEX accounts_unit_key ON accounts (unit_id);

CREATE TABLE periods (
    month      TEXT PRIMARY KEY,
    status     TEXT NOT NULL CHECK (status IN ('open', 'review', 'closed')),
    changed_by BIGINT REFERENCES users (id),
    changed_at {{.TS}} NOT NULL,
    closed_at  {{.TS}}
);

CREATE TABLE journal_entries (
    id                {{.ID}},
    idempotency_key   TEXT NOT NULL,
    period            TEXT NOT NULL,
    entry_date        TEXT NOT NULL,
    kind              TEXT NOT NULL,
    memo              TEXT NOT NULL DEFAULT '',
    reverses_entry_id BIGINT REFERENCES journal_entries (id),
    late_from         TEXT,
    created_by        BIGINT REFERENCES users (id),
    created_at        {{.TS}} NOT NULL
);
CREATE UNIQUE INDEX journal_entries_key ON journal_entries (idempotency_key);
CREATE UNIQUE INDEX journal_entries_reverses_key ON journal_entries (reverses_entry_id);
CREATE INDEX journal_entries_period_idx ON journal_entries (period, id);

CREATE TABLE postings (
    id           {{.ID}},
    entry_id     BIGINT NOT NULL REFERENCES journal_entries (id),
    account_id   BIGINT NOT NULL REFERENCES accounts (id),
    amount_minor BIGINT NOT NULL CHECK (amount_minor <> 0),
    currency     TEXT NOT NULL
);
CREATE INDEX postings_entry_idx ON postings (entry_id);
CREATE INDEX postings_account_idx ON postings (account_id, entry_id);

CREATE TABLE charges (
    id               {{.ID}},
    source_key       TEXT NOT NULL,
    request_id       BIGINT REFERENCES requests (id),
    consumer_unit_id BIGINT NOT NULL REFERENCES units (id),
    provider_unit_id BIGINT NOT NULL REFERENCES units (id),
    service_id       BIGINT NOT NULL REFERENCES services (id),
    rate_id          BIGINT REFERENCES service_rates (id),
    period           TEXT NOT NULL,
    late_from        TEXT,
    quantity         TEXT NOT NULL,
    unit_price_minor BIGINT NOT NULL,
    amount_minor     BIGINT NOT NULL,
    currency         TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('posted', 'disputed', 'credited')),
    showback         BOOLEAN NOT NULL DEFAULT FALSE,
    entry_id         BIGINT REFERENCES journal_entries (id),
    description      TEXT NOT NULL DEFAULT '',
    created_at       {{.TS}} NOT NULL
);
CREATE UNIQUE INDEX charges_source_key ON charges (source_key);
CREATE INDEX charges_period_consumer_idx ON charges (period, consumer_unit_id, id);
CREATE INDEX charges_period_provider_idx ON charges (period, provider_unit_id, id);
CREATE INDEX charges_request_idx ON charges (request_id);

CREATE TABLE disputes (
    id           {{.ID}},
    charge_id    BIGINT NOT NULL REFERENCES charges (id),
    raised_by    BIGINT NOT NULL REFERENCES users (id),
    reason       TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('open', 'accepted', 'rejected')),
    credit_minor BIGINT NOT NULL DEFAULT 0,
    resolved_by  BIGINT REFERENCES users (id),
    resolved_at  {{.TS}},
    note         TEXT NOT NULL DEFAULT '',
    entry_id     BIGINT REFERENCES journal_entries (id),
    created_at   {{.TS}} NOT NULL
);
CREATE UNIQUE INDEX disputes_charge_key ON disputes (charge_id);
CREATE INDEX disputes_status_idx ON disputes (status, id);

CREATE TABLE subscriptions (
    id                  {{.ID}},
    request_id          BIGINT NOT NULL REFERENCES requests (id),
    consumer_unit_id    BIGINT NOT NULL REFERENCES units (id),
    provider_unit_id    BIGINT NOT NULL REFERENCES units (id),
    service_id          BIGINT NOT NULL REFERENCES services (id),
    rate_id             BIGINT NOT NULL REFERENCES service_rates (id),
    monthly_price_minor BIGINT NOT NULL CHECK (monthly_price_minor >= 0),
    currency            TEXT NOT NULL,
    start_date          TEXT NOT NULL,
    end_date            TEXT,
    created_at          {{.TS}} NOT NULL
);
CREATE UNIQUE INDEX subscriptions_request_key ON subscriptions (request_id);
CREATE INDEX subscriptions_start_idx ON subscriptions (start_date);

CREATE TABLE adjustments (
    id            {{.ID}},
    debit_unit_id  BIGINT NOT NULL REFERENCES units (id),
    credit_unit_id BIGINT NOT NULL REFERENCES units (id),
    amount_minor  BIGINT NOT NULL CHECK (amount_minor > 0),
    currency      TEXT NOT NULL,
    month         TEXT NOT NULL,
    reason        TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'posted', 'rejected')),
    created_by    BIGINT NOT NULL REFERENCES users (id),
    decided_by    BIGINT REFERENCES users (id),
    decided_at    {{.TS}},
    entry_id      BIGINT REFERENCES journal_entries (id),
    created_at    {{.TS}} NOT NULL
);
CREATE INDEX adjustments_status_idx ON adjustments (status, id);

CREATE TABLE budgets (
    unit_id      BIGINT NOT NULL REFERENCES units (id),
    month        TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor >= 0),
    currency     TEXT NOT NULL,
    warn_pct     INTEGER NOT NULL DEFAULT 80 CHECK (warn_pct BETWEEN 1 AND 100),
    hard         BOOLEAN NOT NULL DEFAULT FALSE,
    warned_at    {{.TS}},
    updated_by   BIGINT REFERENCES users (id),
    updated_at   {{.TS}} NOT NULL,
    PRIMARY KEY (unit_id, month)
);
{{if .Postgres}}
CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION tiski_refuse_change();
--bun:split
CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION tiski_refuse_change();
{{else}}
CREATE TRIGGER journal_entries_no_update BEFORE UPDATE ON journal_entries
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on journal_entries is refused: the ledger is append-only');
END;
--bun:split
CREATE TRIGGER journal_entries_no_delete BEFORE DELETE ON journal_entries
BEGIN
    SELECT RAISE(ABORT, 'DELETE on journal_entries is refused: the ledger is append-only');
END;
--bun:split
CREATE TRIGGER postings_no_update BEFORE UPDATE ON postings
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on postings is refused: the ledger is append-only');
END;
--bun:split
CREATE TRIGGER postings_no_delete BEFORE DELETE ON postings
BEGIN
    SELECT RAISE(ABORT, 'DELETE on postings is refused: the ledger is append-only');
END;
{{end}}
