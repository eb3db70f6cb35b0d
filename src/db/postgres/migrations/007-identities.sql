-- Accounts at identity providers (OpenID Connect) linked to ours: src/db/sqlite/migrations/006 in
-- PostgreSQL types. A provider account is its provider's name and its `sub`, never its email; the
-- key makes one provider account open at most one of ours. The reference is named, so a link for an
-- account deleted meanwhile is translated into AccountGoneError (src/db/postgres/errors.ts).
CREATE TABLE identities (
  provider TEXT NOT NULL,
  subject TEXT NOT NULL,
  account_id TEXT NOT NULL CONSTRAINT identities_account REFERENCES accounts (id) ON DELETE CASCADE,
  email TEXT,
  email_verified BOOLEAN NOT NULL DEFAULT false,
  linked_at BIGINT NOT NULL,
  PRIMARY KEY (provider, subject)
);
CREATE INDEX identities_account ON identities (account_id);
