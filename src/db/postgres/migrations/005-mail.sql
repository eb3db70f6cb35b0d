-- The transactional outbox (src/mail/outbox.ts): a mail is queued in the transaction of what
-- caused it and sent afterwards by the sender, which claims due rows with a lease
-- (locked_until) and counts its attempts. Sent rows are purged after a while; failed ones stay.
CREATE TABLE outbox (
  id TEXT PRIMARY KEY,
  recipient TEXT NOT NULL,
  subject TEXT NOT NULL,
  text TEXT NOT NULL,
  html TEXT NOT NULL,
  message_id TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  locked_until BIGINT,
  last_error TEXT,
  created_at BIGINT NOT NULL,
  sent_at BIGINT
);
-- What a claim scans: only queued mail, by when it is due.
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'queued';
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE status = 'sent';

-- The receipt's address, given at checkout (not a login), and the order link the receipt
-- carries: a SHA-256 of a 256-bit random token, and when it stops working.
ALTER TABLE orders ADD COLUMN receipt_email TEXT;
ALTER TABLE orders ADD COLUMN link_hash TEXT;
ALTER TABLE orders ADD COLUMN link_expires_at BIGINT;
