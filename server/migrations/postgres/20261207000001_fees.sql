-- Fees and invoices (server/src/fees): the rules staff write, the ledger
-- of immutable lines (a line is never edited: an adjustment, a waiver or a
-- credit is a new line that refers to the first; only `invoice_id` is set,
-- once), customers' billing details, invoice runs and invoices.
--
-- Exactly once: a charge line is unique on the history event it came from
-- (`event_seq`), a credit line on the line it reverses, a run on its
-- period and an invoice on (run, customer), so a second instance or a
-- second try writes nothing new.
CREATE TABLE fee_rules (
    id               BIGSERIAL PRIMARY KEY,
    name             TEXT NOT NULL,
    billable         TEXT NOT NULL,
    scope_kind       TEXT NOT NULL,
    scope_value      TEXT,
    amount_cents     BIGINT NOT NULL,
    currency         TEXT NOT NULL,
    vat_applies      BIGINT NOT NULL,
    vat_basis_points BIGINT NOT NULL,
    valid_from       TEXT NOT NULL,
    valid_to         TEXT,
    created_by       TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    ended_by         TEXT
);

CREATE TABLE fee_lines (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    payer            TEXT NOT NULL,
    customer         TEXT NOT NULL,
    side             TEXT NOT NULL,
    request_id       TEXT NOT NULL,
    billable         TEXT,
    event_seq        BIGINT,
    refers_to        TEXT,
    rule_id          BIGINT,
    description      TEXT NOT NULL,
    quantity         BIGINT NOT NULL,
    unit_cents       BIGINT NOT NULL,
    vat_basis_points BIGINT NOT NULL,
    net_cents        BIGINT NOT NULL,
    vat_cents        BIGINT NOT NULL,
    gross_cents      BIGINT NOT NULL,
    currency         TEXT NOT NULL,
    reason           TEXT,
    created_by       TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    invoice_id       TEXT
);
CREATE UNIQUE INDEX fee_lines_one_charge_per_event ON fee_lines (event_seq) WHERE kind = 'charge';
CREATE UNIQUE INDEX fee_lines_one_credit_per_line ON fee_lines (refers_to) WHERE kind = 'credit';
CREATE UNIQUE INDEX fee_lines_one_waiver_per_line ON fee_lines (refers_to) WHERE kind = 'waiver';
CREATE INDEX fee_lines_open ON fee_lines (invoice_id, customer, created_at);
CREATE INDEX fee_lines_by_request ON fee_lines (side, request_id);

-- Billable events the ledger looked at and wrote no line for, and why.
CREATE TABLE fee_skips (
    event_seq  BIGINT PRIMARY KEY,
    side       TEXT NOT NULL,
    request_id TEXT NOT NULL,
    billable   TEXT NOT NULL,
    reason     TEXT NOT NULL,
    at         TEXT NOT NULL
);

CREATE TABLE fee_cursor (
    name TEXT PRIMARY KEY,
    seq  BIGINT NOT NULL
);
INSERT INTO fee_cursor (name, seq) VALUES ('history', 0);

CREATE TABLE fee_customers (
    code          TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    business_id   TEXT,
    ovt           TEXT,
    intermediator TEXT,
    street        TEXT,
    postcode      TEXT,
    town          TEXT,
    country       TEXT,
    email         TEXT,
    lang          TEXT,
    e_invoice     BIGINT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE fee_runs (
    id             TEXT PRIMARY KEY,
    period_from    TEXT NOT NULL,
    period_to      TEXT NOT NULL,
    cannot_invoice TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    UNIQUE (period_from, period_to)
);

CREATE TABLE fee_invoices (
    id          TEXT PRIMARY KEY,
    run_id      TEXT,
    kind        TEXT NOT NULL,
    number      TEXT NOT NULL UNIQUE,
    reference   TEXT NOT NULL,
    customer    TEXT NOT NULL,
    payer       TEXT NOT NULL,
    -- The customer's details as they were when invoiced (JSON).
    billing     TEXT NOT NULL,
    invoice_date TEXT NOT NULL,
    due_date    TEXT NOT NULL,
    currency    TEXT NOT NULL,
    net_cents   BIGINT NOT NULL,
    vat_cents   BIGINT NOT NULL,
    gross_cents BIGINT NOT NULL,
    credits     TEXT,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (run_id, customer)
);

-- Invoice numbers: one counter per year.
CREATE TABLE fee_counters (
    year BIGINT PRIMARY KEY,
    next BIGINT NOT NULL
);

-- Who exported what, when (the audit trail of the SAP files).
CREATE TABLE fee_exports (
    id          TEXT PRIMARY KEY,
    run_id      TEXT,
    invoice_id  TEXT,
    format      TEXT NOT NULL,
    exported_by TEXT NOT NULL,
    exported_at TEXT NOT NULL
);

CREATE FUNCTION fee_lines_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.invoice_id IS NOT NULL
       OR NEW.id IS DISTINCT FROM OLD.id OR NEW.kind IS DISTINCT FROM OLD.kind
       OR NEW.customer IS DISTINCT FROM OLD.customer OR NEW.quantity IS DISTINCT FROM OLD.quantity
       OR NEW.unit_cents IS DISTINCT FROM OLD.unit_cents OR NEW.net_cents IS DISTINCT FROM OLD.net_cents
       OR NEW.vat_cents IS DISTINCT FROM OLD.vat_cents OR NEW.gross_cents IS DISTINCT FROM OLD.gross_cents
       OR NEW.description IS DISTINCT FROM OLD.description THEN
        RAISE EXCEPTION 'fee lines are immutable';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER fee_lines_immutable BEFORE UPDATE OR DELETE ON fee_lines
    FOR EACH ROW EXECUTE FUNCTION fee_lines_immutable();
