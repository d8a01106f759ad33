-- Amounts recorded with a history event (app::fees::StatedCharge): the
-- lending library's charge for a borrowing request, or the damage to a
-- loan. Written in the same transaction as the event; the fee ledger
-- passes the amount on by the event's rule. Never changed.
CREATE TABLE event_charges (
    event_seq    BIGINT PRIMARY KEY REFERENCES request_events (seq),
    side         TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    currency     TEXT NOT NULL,
    reference    TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX event_charges_by_request ON event_charges (side, request_id);

CREATE TRIGGER event_charges_no_update BEFORE UPDATE ON event_charges
BEGIN
    SELECT RAISE(ABORT, 'event charges are append-only');
END;
CREATE TRIGGER event_charges_no_delete BEFORE DELETE ON event_charges
BEGIN
    SELECT RAISE(ABORT, 'event charges are append-only');
END;
