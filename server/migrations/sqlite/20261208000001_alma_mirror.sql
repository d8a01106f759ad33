-- The Alma adapter's mirror (server/src/adapters/alma/mirror.rs). Alma
-- cannot list a patron's resource-sharing requests and sends no webhook
-- when one changes, so Kauko keeps what it last read, re-reads it in the
-- background (sync.rs) and serves My requests from here. Timestamps are
-- RFC 3339 UTC text (text order is time order); documents are JSON text.

-- Every RS request Kauko knows (created through Kauko or found through the
-- patron's user requests), as Kauko's domain object.
CREATE TABLE alma_mirror_requests (
    request_id   TEXT PRIMARY KEY,
    patron_id    TEXT NOT NULL,
    request      TEXT NOT NULL,
    status       TEXT NOT NULL,
    -- 1 once the status is closed (completed, not filled, cancelled).
    closed       BIGINT NOT NULL,
    created_at   TEXT NOT NULL,
    -- When Alma last confirmed it, and when its status last changed.
    confirmed_at TEXT NOT NULL,
    changed_at   TEXT NOT NULL,
    -- The next background read; NULL: never again (closed long ago).
    due_at       TEXT,
    -- 1 when Alma no longer has it (it is left out of My requests).
    gone         BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX alma_mirror_requests_by_patron ON alma_mirror_requests (patron_id, created_at);
CREATE INDEX alma_mirror_requests_due ON alma_mirror_requests (due_at);

-- Each patron Kauko mirrors: their ILL loans as last read, when their
-- whole picture (user requests and loans) was last read, and when it is
-- due again. A patron looking at My requests goes first.
CREATE TABLE alma_mirror_patrons (
    patron_id     TEXT PRIMARY KEY,
    loans         TEXT NOT NULL,
    -- When the loans were last read (NULL: never; they are read apart
    -- from the requests, and one failing does not hide the other).
    loans_at      TEXT,
    listed_at     TEXT,
    due_at        TEXT NOT NULL,
    viewing_until TEXT,
    -- The last read failed (Alma down): when, and why.
    failed_at     TEXT,
    failure       TEXT,
    -- An instance is reading this patron until then.
    claimed_until TEXT
);
CREATE INDEX alma_mirror_patrons_due ON alma_mirror_patrons (due_at);

-- One Alma call budget for every Kauko instance on this database
-- (budget.rs): the next free call slot, in microseconds since the epoch,
-- for all calls ('calls') and for the background sync's share ('sync').
CREATE TABLE alma_call_budget (
    name    TEXT PRIMARY KEY,
    next_at BIGINT NOT NULL
);
INSERT INTO alma_call_budget (name, next_at) VALUES ('calls', 0);
INSERT INTO alma_call_budget (name, next_at) VALUES ('sync', 0);
