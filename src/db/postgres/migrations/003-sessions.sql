-- Sessions live beside the accounts, so every process sees every session, and deleting an
-- account (account deletion, cleanup) ends its sessions in the same transaction: account_id is
-- the session's signed-in record (sess.auth.id), kept by the store at each save.
CREATE TABLE sessions (
  sid TEXT PRIMARY KEY,
  -- express-session's JSON as is: stored and read back as text, never queried inside.
  sess TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  account_id TEXT CONSTRAINT sessions_account REFERENCES accounts (id) ON DELETE CASCADE
);
CREATE INDEX sessions_account ON sessions (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX sessions_expires ON sessions (expires_at);
