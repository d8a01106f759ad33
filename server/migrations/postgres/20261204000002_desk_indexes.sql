-- The desk's queues: the oldest waiting work first within any filter
-- (an index on the time a request entered its state), and the partner and
-- material-type filters with their counts per state.
CREATE INDEX borrowing_requests_by_age ON borrowing_requests (updated_at);
CREATE INDEX borrowing_requests_by_partner ON borrowing_requests (partner_code, status, updated_at);
CREATE INDEX borrowing_requests_by_kind ON borrowing_requests (kind, status, updated_at);
CREATE INDEX lending_requests_by_age ON lending_requests (updated_at);
CREATE INDEX lending_requests_by_partner ON lending_requests (partner_code, status, updated_at);
CREATE INDEX lending_requests_by_kind ON lending_requests (kind, status, updated_at);
CREATE INDEX lending_requests_by_requester ON lending_requests (requester);
