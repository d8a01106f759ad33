-- Letters (server/src/letters): the templates staff edited (every save a
-- new version; restoring writes a new version too), which letters are
-- switched on, and every letter written, as rendered, with its delivery.
-- A letter is written once per triggering event: (kind, side, request,
-- trigger) is unique, so a second instance, or the same instance after a
-- restart, cannot write it again; it is then sent by a worker that claims
-- it with a lease, as the outbox does.
CREATE TABLE letter_templates (
    kind     TEXT NOT NULL,
    lang     TEXT NOT NULL,
    version  BIGINT NOT NULL,
    subject  TEXT NOT NULL,
    body     TEXT NOT NULL,
    saved_by TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    PRIMARY KEY (kind, lang, version)
);

CREATE TABLE letter_settings (
    kind       TEXT PRIMARY KEY,
    enabled    BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE letters (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    side            TEXT NOT NULL,
    request_id      TEXT NOT NULL,
    trigger_key     TEXT NOT NULL,
    recipient       TEXT,
    lang            TEXT NOT NULL,
    version         TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_token     TEXT,
    lease_until     TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    UNIQUE (kind, side, request_id, trigger_key)
);
CREATE INDEX letters_due ON letters (state, next_attempt_at);
CREATE INDEX letters_by_request ON letters (side, request_id, created_at);
CREATE INDEX letters_by_time ON letters (created_at);

-- How far the letter planner has read the history (request_events.seq).
CREATE TABLE letter_cursor (
    name TEXT PRIMARY KEY,
    seq  BIGINT NOT NULL
);
INSERT INTO letter_cursor (name, seq) SELECT 'history', COALESCE(MAX(seq), 0) FROM request_events;

-- What Kauko knows of a patron for writing to them: their address and
-- name from their sign-in, the language they use in Kauko and their
-- sign-in's locale.
CREATE TABLE patrons (
    id         TEXT PRIMARY KEY,
    name       TEXT,
    email      TEXT,
    lang       TEXT,
    locale     TEXT,
    updated_at TEXT NOT NULL
);
