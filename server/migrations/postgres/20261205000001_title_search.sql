-- The desk's title search through trigram indexes (pg_trgm): a GIN index
-- on the lower-cased title (and the requesting library's name) serves
-- LIKE '%words%' without reading every row. pg_trgm ships with
-- PostgreSQL and is a trusted extension (PostgreSQL 13+), so a database
-- owner may create it; it goes into the schema `public` so that every
-- schema (one per test, or per instance) shares it. Where it cannot be
-- created (no privilege, no contrib package) the search still works,
-- only by reading every title, and the reason is left as a notice.
DO $$
DECLARE
    ops text;
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'pg_trgm not available (%); the desk''s title search reads every title', SQLERRM;
    END;
    SELECT quote_ident(n.nspname) || '.gin_trgm_ops' INTO ops
      FROM pg_opclass c JOIN pg_namespace n ON n.oid = c.opcnamespace
     WHERE c.opcname = 'gin_trgm_ops'
     LIMIT 1;
    IF ops IS NOT NULL THEN
        EXECUTE format('CREATE INDEX borrowing_requests_title_trgm ON borrowing_requests USING gin (LOWER(title) %s)', ops);
        EXECUTE format('CREATE INDEX lending_requests_title_trgm ON lending_requests USING gin (LOWER(title) %s)', ops);
        EXECUTE format('CREATE INDEX lending_requests_requester_trgm ON lending_requests USING gin (LOWER(requester) %s)', ops);
    END IF;
END
$$;
