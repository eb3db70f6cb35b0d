-- One table per auth collection. {{table}} is a collection name checked by isCollectionName
-- (lower-case letters, digits, _), and every use is quoted, so a name that is also an SQL
-- keyword (user, order) is still just a table.
CREATE TABLE "{{table}}" (
  id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  email TEXT NOT NULL,
  username TEXT NOT NULL,
  name TEXT,
  password_hash TEXT NOT NULL,
  verified BOOLEAN NOT NULL DEFAULT false,
  is_anonymous BOOLEAN NOT NULL DEFAULT false,
  created_at BIGINT NOT NULL,
  last_active_at BIGINT NOT NULL,
  claimed_at BIGINT,
  metadata JSONB NOT NULL DEFAULT '{}'
);
-- Emails are unique regardless of case, as SQLite's COLLATE NOCASE makes them; lookups compare
-- lower(email), so they use this index.
CREATE UNIQUE INDEX "{{table}}_email" ON "{{table}}" (lower(email));
-- Cleanup walks stale guests oldest first.
CREATE INDEX "{{table}}_stale_guests" ON "{{table}}" (last_active_at) WHERE is_anonymous;
