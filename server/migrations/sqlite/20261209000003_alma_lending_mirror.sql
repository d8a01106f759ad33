-- Lending requests on Alma (server/src/adapters/alma/lending.rs): staff
-- ship and copy in Alma, so Kauko reads the lending task list and keeps
-- what it last saw here; each change becomes one history event (side
-- 'lending'), which the fee ledger prices. Timestamps RFC 3339 UTC text.
CREATE TABLE alma_mirror_lending (
    request_id   TEXT PRIMARY KEY,
    partner_code TEXT NOT NULL,
    external_id  TEXT,
    title        TEXT NOT NULL,
    -- Kauko's citation type code (book, article, chapter).
    kind         TEXT,
    needed_by    TEXT,
    status       TEXT NOT NULL,
    -- 1 once completed, cancelled or rejected: not followed any more.
    closed       BIGINT NOT NULL,
    created_at   TEXT NOT NULL,
    confirmed_at TEXT NOT NULL,
    changed_at   TEXT NOT NULL
);
CREATE INDEX alma_mirror_lending_open ON alma_mirror_lending (closed, confirmed_at);
CREATE INDEX alma_mirror_lending_created ON alma_mirror_lending (created_at);

-- Periodic sync jobs shared by every instance: the one that moves due_at
-- ahead runs the job.
CREATE TABLE alma_sync_jobs (
    name   TEXT PRIMARY KEY,
    due_at TEXT NOT NULL
);
INSERT INTO alma_sync_jobs (name, due_at) VALUES ('lending', '0000');
