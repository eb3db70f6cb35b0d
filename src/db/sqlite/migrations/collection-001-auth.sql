-- One table per auth collection. Timestamps are Unix milliseconds.
CREATE TABLE {{table}} (
  id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  email TEXT NOT NULL COLLATE NOCASE UNIQUE,
  username TEXT NOT NULL,
  name TEXT,
  password_hash TEXT NOT NULL,
  verified INTEGER NOT NULL DEFAULT 0,
  is_anonymous INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  last_active_at INTEGER NOT NULL,
  claimed_at INTEGER,
  metadata TEXT NOT NULL DEFAULT '{}'
) WITHOUT ROWID;
-- Cleanup walks stale guests oldest first.
CREATE INDEX {{table}}_stale_guests ON {{table}} (last_active_at) WHERE is_anonymous = 1;
