-- Statistics read the requests created in a period (with their history
-- through request_events_by_request).
CREATE INDEX borrowing_requests_by_created ON borrowing_requests (created_at);
CREATE INDEX lending_requests_by_created ON lending_requests (created_at);
