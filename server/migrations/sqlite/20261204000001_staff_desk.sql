-- The staff desk: each request carries a version (bumped by every change,
-- so a change made on a stale page is refused, never applied twice), the
-- partner it went to, and the title and material type as columns for the
-- queues' filters and search. Lending requests get the same, plus the time
-- they entered their state and a due date.
ALTER TABLE borrowing_requests ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE borrowing_requests ADD COLUMN partner_code TEXT;
ALTER TABLE borrowing_requests ADD COLUMN title TEXT NOT NULL DEFAULT '';
ALTER TABLE borrowing_requests ADD COLUMN kind TEXT;
UPDATE borrowing_requests
   SET title = COALESCE(json_extract(citation, '$.title'), ''),
       kind = json_extract(citation, '$.kind');
CREATE INDEX borrowing_requests_queue ON borrowing_requests (status, updated_at);

ALTER TABLE lending_requests ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE lending_requests ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';
ALTER TABLE lending_requests ADD COLUMN title TEXT NOT NULL DEFAULT '';
ALTER TABLE lending_requests ADD COLUMN kind TEXT;
ALTER TABLE lending_requests ADD COLUMN requester TEXT NOT NULL DEFAULT '';
ALTER TABLE lending_requests ADD COLUMN due_date TEXT;
UPDATE lending_requests
   SET updated_at = created_at,
       title = COALESCE(json_extract(body, '$.citation.title'), ''),
       kind = json_extract(body, '$.citation.kind'),
       requester = COALESCE(json_extract(body, '$.requester.library_name'), '');
CREATE INDEX lending_requests_queue ON lending_requests (status, updated_at);

-- A renewal the patron asked for, until the lending library answers.
ALTER TABLE ill_loans ADD COLUMN renewal_requested BIGINT NOT NULL DEFAULT 0;
CREATE INDEX ill_loans_by_request ON ill_loans (request_id);
