-- Copies staff send as a file (a scanned article for a lending request):
-- kept in the database, so every instance can serve them, and downloaded
-- by the requesting library through an unguessable token until they
-- expire.
CREATE TABLE copy_files (
    token        TEXT PRIMARY KEY,
    request_id   TEXT NOT NULL REFERENCES lending_requests (id),
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    body         BLOB NOT NULL,
    uploaded_by  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    downloads    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX copy_files_by_request ON copy_files (request_id);
