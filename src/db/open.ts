import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export type Db = Database.Database;

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
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  return db;
}

/**
 * The session store's file is written by connect-sqlite3 (node-sqlite3); we open it too, to
 * index sessions by the account they belong to (so cleanup and account deletion find them)
 * and by expiry (so the hourly purge is a range scan). The table shape is connect-sqlite3's.
 */
export function openSessionDb(file: string): Db {
  const db = openDb(file);
  db.exec(`
    CREATE TABLE IF NOT EXISTS sessions (sid PRIMARY KEY, expired, sess);
    CREATE INDEX IF NOT EXISTS sessions_expired ON sessions (expired);
    CREATE INDEX IF NOT EXISTS sessions_account ON sessions (json_extract(sess, '$.auth.id'))
      WHERE json_extract(sess, '$.auth.id') IS NOT NULL;
  `);
  return db;
}

export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Database.SqliteError
    && (error.code === 'SQLITE_CONSTRAINT_UNIQUE' || error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY');
}
