-- The sync spots changes through each patron's user-request listing
-- (server/src/adapters/alma/mirror.rs, `Listing`): one call per patron
-- instead of one per request. Alma's user requests carry the status of
-- the RS request they stand for.
--
-- listed_status: the status the patron's active user requests showed for
-- this request at the last read of the patron (NULL: not listed then).
-- read_at: when the request itself was last read from Alma; a request the
-- listing keeps confirming is still read once per `alma.sync_closed_seconds`.
ALTER TABLE alma_mirror_requests ADD COLUMN listed_status TEXT;
ALTER TABLE alma_mirror_requests ADD COLUMN read_at TEXT;

-- What statistics count Alma requests by (server/src/stats): the material
-- (Kauko's citation type code) and the partner asked, as last read.
ALTER TABLE alma_mirror_requests ADD COLUMN kind TEXT;
ALTER TABLE alma_mirror_requests ADD COLUMN partner_code TEXT;
CREATE INDEX alma_mirror_requests_created ON alma_mirror_requests (created_at);
