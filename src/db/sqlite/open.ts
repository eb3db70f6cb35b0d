import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export type Db = Database.Database;

/** How long a connection waits for a lock another connection holds before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens a SQLite file with the pragmas every connection here needs. WAL lets the server read
 * while cleanup writes; the busy timeout makes a second writer wait instead of failing with
 * SQLITE_BUSY; foreign keys carry deletes from an account to the rows that hang off it.
 */
export function openDb(file: string): Db {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.pragma('foreign_keys = ON');
  return db;
}

/**
 * The session store's table (connect-sqlite3's shape) with two indexes of ours: by the account a
 * session belongs to (so account deletion and cleanup find its sessions) and by expiry (so
 * purges are range scans). Run by the server through the store's own connection, and by
 * separate processes (cleanup) through `openSessionDb`.
 */
export const SESSION_SCHEMA = `
  CREATE TABLE IF NOT EXISTS sessions (sid PRIMARY KEY, expired, sess);
  CREATE INDEX IF NOT EXISTS sessions_expired ON sessions (expired);
  CREATE INDEX IF NOT EXISTS sessions_account ON sessions (json_extract(sess, '$.auth.id'))
    WHERE json_extract(sess, '$.auth.id') IS NOT NULL;
`;

/**
 * sessions.db for a process other than the server (cleanup, seeding, tests). The server itself
 * reaches the file only through node-sqlite3: two SQLite libraries in one process do not see
 * each other's POSIX locks, and one closing the file would drop the other's.
 */
export function openSessionDb(file: string): Db {
  const db = openDb(file);
  db.exec(SESSION_SCHEMA);
  return db;
}
