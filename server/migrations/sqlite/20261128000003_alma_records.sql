-- The Alma adapter's own records. Alma has no endpoint listing a patron's
-- resource-sharing requests, so Kauko notes each one it creates; it also
-- keeps the lending requests it created (with everything asked, which
-- Alma's object cannot hold) and counts the renewals it made per loan.
-- Timestamps are RFC 3339 UTC text; JSON documents are TEXT.

-- A borrowing request is reserved (state 'pending') before the create is
-- sent, becomes 'created' with Alma's request_id, or 'unconfirmed' when
-- the create got no answer (a later look-up by external id settles it).
CREATE TABLE alma_borrowing_requests (
    external_id TEXT PRIMARY KEY,
    request_id  TEXT UNIQUE,
    patron_id   TEXT NOT NULL,
    request     TEXT NOT NULL,
    state       TEXT NOT NULL,
    status      TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX alma_borrowing_requests_by_patron ON alma_borrowing_requests (patron_id, created_at);

CREATE TABLE alma_lending_requests (
    external_id  TEXT PRIMARY KEY,
    request_id   TEXT NOT NULL,
    partner_code TEXT NOT NULL,
    request      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    UNIQUE (partner_code, request_id)
);

CREATE TABLE alma_loan_renewals (
    patron_id  TEXT NOT NULL,
    loan_id    TEXT NOT NULL,
    renewals   BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (patron_id, loan_id)
);
