-- When a link mailed to the account's address was followed; `verified` is kept equal to
-- `email_verified_at IS NOT NULL` by markEmailVerified.
ALTER TABLE "{{table}}" ADD COLUMN email_verified_at BIGINT;
