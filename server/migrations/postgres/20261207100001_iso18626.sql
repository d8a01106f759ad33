-- ISO 18626 (server/src/iso18626): how Kauko speaks with each partner whose
-- record says ISO 18626, and every message exchanged with partners.
--
-- iso18626_peers: the partner's dialect ('1.2', or 'alma' for the 2014 v1.1
-- dialect Alma speaks) and an optional shared secret the partner must send
-- (requestingAgencyAuthentication/securityCode, or Authorization: Bearer).
-- A partner with an ISO 18626 record and no row here speaks v1.2 without a
-- secret.
CREATE TABLE iso18626_peers (
    partner_code TEXT PRIMARY KEY,
    dialect      TEXT NOT NULL,
    secret       TEXT,
    updated_at   TEXT NOT NULL
);

-- Every message, received ('in') or sent ('out'), with the confirmation.
-- dedup_key: for a received message its fingerprint (a message sent twice
-- is applied once; a refused one keeps none, so it can be sent again); for
-- a sent one the history event it carries ('event:<seq>'), so each event
-- goes once. state: in 'applied' or 'refused'; out 'pending', 'sent',
-- 'refused' (the partner answered ERROR) or 'failed'. Sent messages are
-- claimed with a lease, as the outbox does.
CREATE TABLE iso18626_messages (
    id              TEXT PRIMARY KEY,
    direction       TEXT NOT NULL,
    partner_code    TEXT NOT NULL,
    side            TEXT,
    request_id      TEXT,
    kind            TEXT NOT NULL,
    summary         TEXT,
    dedup_key       TEXT UNIQUE,
    body            TEXT NOT NULL,
    answer          TEXT,
    state           TEXT NOT NULL,
    error           TEXT,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    lease_token     TEXT,
    lease_until     TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX iso18626_messages_by_request ON iso18626_messages (side, request_id, created_at);
CREATE INDEX iso18626_messages_due ON iso18626_messages (state, next_attempt_at);
