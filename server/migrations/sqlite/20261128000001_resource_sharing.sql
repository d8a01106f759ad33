-- The local resource-sharing backend: Kauko's own copy of what Alma would
-- hold. Timestamps are RFC 3339 UTC text; JSON documents are TEXT.

CREATE TABLE borrowing_requests (
    id              TEXT PRIMARY KEY,
    patron_id       TEXT NOT NULL,
    external_id     TEXT NOT NULL UNIQUE,
    citation        TEXT NOT NULL,
    format          TEXT NOT NULL,
    pickup_location TEXT,
    needed_by       TEXT,
    note            TEXT,
    status          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX borrowing_requests_by_patron ON borrowing_requests (patron_id, created_at);

CREATE TABLE ill_loans (
    id          TEXT PRIMARY KEY,
    patron_id   TEXT NOT NULL,
    request_id  TEXT REFERENCES borrowing_requests (id),
    title       TEXT NOT NULL,
    author      TEXT,
    loan_date   TEXT NOT NULL,
    due_date    TEXT NOT NULL,
    renewable   BIGINT NOT NULL,
    renewals    BIGINT NOT NULL DEFAULT 0,
    returned_at TEXT
);
CREATE INDEX ill_loans_by_patron ON ill_loans (patron_id, due_date);

CREATE TABLE lending_requests (
    id           TEXT PRIMARY KEY,
    external_id  TEXT NOT NULL UNIQUE,
    partner_code TEXT NOT NULL,
    body         TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

CREATE TABLE partners (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
