-- Why a lending request waits for staff review (a translation key such as
-- 'review.reason.email_mismatch'), and the partner it was matched to, if
-- any. A lending request is stored first and matched to a partner while it
-- is delivered; until then its owner is ''.
ALTER TABLE outbox ADD COLUMN hold_reason TEXT;
ALTER TABLE outbox ADD COLUMN hold_partner TEXT;
