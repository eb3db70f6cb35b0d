-- The schema of src/db/sqlite/migrations/, in PostgreSQL types. Timestamps are Unix milliseconds
-- (BIGINT). Every auth record, whatever its collection, has a row in accounts; app data
-- references accounts(id), so deleting an account cascades to its cart and notes, and detaches
-- its orders.
CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  collection TEXT NOT NULL
);

-- An append-only audit trail. No index beyond the key: nothing reads it by record or type
-- (SQLite's migration 003 dropped the two it once had).
CREATE TABLE auth_events (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type TEXT NOT NULL,
  record_id TEXT,
  collection TEXT,
  created_at BIGINT NOT NULL,
  detail JSONB
);
