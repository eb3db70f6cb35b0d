import type Database from 'better-sqlite3';
import type { EventLog } from '../../auth/stores.ts';
import { sqliteWrite } from './unit-of-work.ts';

/** The columns of `auth_events` every writer fills, spelled once (cleanup writes `guest_deleted` in bulk). */
export const EVENT_COLUMNS = 'type, record_id, collection, created_at, detail';

/** `auth_events` in SQLite; the time is taken when the event is recorded, not when it is applied. */
export function createSqliteEventLog(db: Database.Database, now: () => number): EventLog {
  const insert = db.prepare(`INSERT INTO auth_events (${EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?)`);
  return {
    record(type, recordId, collection, detail) {
      const values = [type, recordId, collection, now(), detail ? JSON.stringify(detail) : null];
      return sqliteWrite(() => void insert.run(...values));
    },
  };
}
