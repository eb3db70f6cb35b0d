-- Every auth record, whatever its collection, has a row here. App data references
-- accounts(id), so deleting an account cascades to its cart and notes, and detaches its orders.
CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  collection TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE auth_events (
  id INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  record_id TEXT,
  collection TEXT,
  created_at INTEGER NOT NULL,
  detail TEXT
);
CREATE INDEX auth_events_record ON auth_events (record_id);
CREATE INDEX auth_events_type_time ON auth_events (type, created_at);
