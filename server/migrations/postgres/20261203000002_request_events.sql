-- Every request's history, append-only: one row per change, written in the
-- same transaction as the change. Rows are never updated or deleted (the
-- trigger refuses it). Requests that existed before get one 'created'
-- event here.
CREATE TABLE request_events (
    seq           BIGSERIAL PRIMARY KEY,
    side          TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    at            TEXT NOT NULL,
    actor_kind    TEXT NOT NULL,
    actor_id      TEXT,
    action        TEXT NOT NULL,
    from_state    TEXT,
    to_state      TEXT NOT NULL,
    partner_code  TEXT,
    note          TEXT,
    note_audience TEXT
);
CREATE INDEX request_events_by_request ON request_events (side, request_id, seq);
CREATE INDEX request_events_by_time ON request_events (at);

CREATE FUNCTION request_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'request events are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER request_events_no_change BEFORE UPDATE OR DELETE ON request_events
    FOR EACH ROW EXECUTE FUNCTION request_events_append_only();

INSERT INTO request_events (side, request_id, at, actor_kind, actor_id, action, from_state, to_state)
SELECT 'borrowing', id, created_at, 'patron', patron_id, 'created', NULL, status
FROM borrowing_requests ORDER BY created_at, id;
INSERT INTO request_events (side, request_id, at, actor_kind, actor_id, action, from_state, to_state, partner_code)
SELECT 'lending', id, created_at, 'partner', partner_code, 'created', NULL, status, partner_code
FROM lending_requests ORDER BY created_at, id;
