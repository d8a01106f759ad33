-- Sign-in: server-side sessions (shared by every server instance) and the
-- short-lived state of logins in progress. Tokens are stored only as
-- SHA-256 hashes.

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    name        TEXT NOT NULL,
    email       TEXT,
    staff       BIGINT NOT NULL,
    id_token    TEXT,
    created_at  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE login_states (
    state         TEXT PRIMARY KEY,
    browser_hash  TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    return_to     TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
