-- The tokens behind the links the app mails, as src/db/sqlite/migrations/005-tokens.sql: keyed
-- by the SHA-256 of the link's secret, one purpose, one account, a bound value, used once.
-- The references to accounts are named (src/db/postgres/errors.ts): a token or a pending
-- conversion for a guest that cleanup deleted meanwhile fails as AccountGoneError.
CREATE TABLE account_tokens (
  hash TEXT PRIMARY KEY,
  purpose TEXT NOT NULL CHECK (purpose IN ('password_reset', 'sign_in_link', 'email_verification', 'guest_resume')),
  account_id TEXT NOT NULL CONSTRAINT account_tokens_account REFERENCES accounts (id) ON DELETE CASCADE,
  bound TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT,
  created_at BIGINT NOT NULL
);
CREATE INDEX account_tokens_account ON account_tokens (account_id, purpose);

CREATE TABLE pending_conversions (
  account_id TEXT PRIMARY KEY CONSTRAINT pending_conversions_account REFERENCES accounts (id) ON DELETE CASCADE,
  email TEXT NOT NULL,
  email_forms TEXT[] NOT NULL,
  name TEXT,
  password_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
