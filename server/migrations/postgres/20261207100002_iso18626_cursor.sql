-- Where the ISO 18626 sender (server/src/iso18626/send.rs) has read the
-- request history to: the messages of events after it are still to be
-- written. Starts at the present, so older events send nothing.
CREATE TABLE iso18626_cursor (
    name TEXT PRIMARY KEY,
    seq  BIGINT NOT NULL
);
INSERT INTO iso18626_cursor (name, seq) SELECT 'history', COALESCE(MAX(seq), 0) FROM request_events;
