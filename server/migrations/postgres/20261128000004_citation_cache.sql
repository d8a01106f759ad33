-- Citation lookup cache: answers from Crossref, DataCite, PubMed, Open
-- Library and Unpaywall, kept until `expires_at` (lookup.cache_ttl_seconds).
-- Keys are `doi:<doi>`, `pmid:<pmid>`, `isbn:<isbn13>` and `oa:<doi>`;
-- `payload` is JSON. Timestamps are RFC 3339 UTC text (text order is time
-- order).

CREATE TABLE citation_cache (
    cache_key   TEXT PRIMARY KEY,
    payload     TEXT NOT NULL,
    fetched_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX citation_cache_by_expiry ON citation_cache (expires_at);
