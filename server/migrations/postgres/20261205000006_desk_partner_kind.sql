-- The desk's partner + material type filter: both equalities in one index
-- (counts per state read from the index alone, the page sorted from a few
-- hundred entries), whatever the planner's statistics say.
CREATE INDEX borrowing_requests_by_partner_kind ON borrowing_requests (partner_code, kind, status, updated_at);
CREATE INDEX lending_requests_by_partner_kind ON lending_requests (partner_code, kind, status, updated_at);
