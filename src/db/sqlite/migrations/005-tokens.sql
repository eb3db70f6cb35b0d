-- The tokens behind the links the app mails (src/auth/stores.ts AccountTokenStore): the key is
-- the SHA-256 of the link's 256-bit secret, so the table never holds a working link. Each token
-- has one purpose and one account, and stays bound to a value (the address it was sent for, a
-- fingerprint of the credential it may replace); redeeming it sets used_at, once.
CREATE TABLE account_tokens (
  hash TEXT PRIMARY KEY,
  purpose TEXT NOT NULL CHECK (purpose IN ('password_reset', 'sign_in_link', 'email_verification', 'guest_resume')),
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  bound TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
-- Issuing a token drops the account's spent ones of that purpose.
CREATE INDEX account_tokens_account ON account_tokens (account_id, purpose);

-- A guest's conversion waiting for its address to be verified (EMAIL_VERIFICATION=required):
-- the password is hashed and kept at once; the guest stays a guest until the link is followed.
-- email_forms is a JSON array of every stored form of the address that must still be free then.
CREATE TABLE pending_conversions (
  account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  email TEXT NOT NULL,
  email_forms TEXT NOT NULL,
  name TEXT,
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
