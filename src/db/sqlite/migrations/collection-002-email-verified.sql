-- When a link mailed to the account's address was followed. `verified` stays, kept equal to
-- `email_verified_at IS NOT NULL` by the one write that sets it (markEmailVerified).
ALTER TABLE {{table}} ADD COLUMN email_verified_at INTEGER;
