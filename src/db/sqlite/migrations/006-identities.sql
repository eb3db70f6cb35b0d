-- Accounts at identity providers (OpenID Connect) linked to ours (issue 16). A provider account is
-- its provider's name (OIDC_PROVIDERS) and its `sub`, never its email: emails change hands, subjects
-- do not. The key makes one provider account open at most one of ours; an account may link several.
-- The email is what the provider said when it was linked, for the account page only.
CREATE TABLE identities (
  provider TEXT NOT NULL,
  subject TEXT NOT NULL,
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  email TEXT,
  email_verified INTEGER NOT NULL DEFAULT 0,
  linked_at INTEGER NOT NULL,
  PRIMARY KEY (provider, subject)
) WITHOUT ROWID;
CREATE INDEX identities_account ON identities (account_id);
