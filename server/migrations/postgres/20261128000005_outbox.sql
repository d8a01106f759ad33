-- The durable outbox: every submission (a patron's borrowing request, a
-- library's lending request) is stored here first, keyed by the
-- idempotency key from its form (which is also its external id at the
-- library system), then delivered through the port by a background worker.
-- Timestamps are RFC 3339 UTC text (text order is time order); `payload`
-- is the request as JSON.
--
-- state: 'pending' (to deliver), 'delivered', 'failed' (a permanent error,
-- kept in last_error), 'review' (a lending request from a library that is
-- not a known partner, waiting for staff), 'rejected' (staff said no).
-- A worker claims a row by setting lease_token and lease_until in one
-- UPDATE ... WHERE that only one instance can win; a lease that runs out
-- (the process died) makes the row claimable again.

CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    reference       TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    owner           TEXT NOT NULL,
    title           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_token     TEXT,
    lease_until     TEXT,
    last_error      TEXT,
    delivered_id    TEXT,
    decision        TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    delivered_at    TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_by_owner ON outbox (kind, owner, created_at);
