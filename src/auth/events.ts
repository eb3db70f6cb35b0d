import type { Db } from '../db/open.ts';

export type AuthEventType = 'guest_created' | 'guest_converted' | 'guest_merged' | 'guest_deleted'
  | 'login_failed' | 'signed_in' | 'signed_out' | 'registered' | 'password_changed' | 'account_deleted';

export type EventLog = ReturnType<typeof createEventLog>;

/** The `auth_events` audit trail. Writes join the caller's transaction when there is one. */
export function createEventLog(db: Db, now: () => number) {
  const insert = db.prepare(`INSERT INTO auth_events (type, record_id, collection, created_at, detail)
    VALUES (?, ?, ?, ?, ?)`);
  return {
    record(type: AuthEventType, recordId: string | null, collection: string | null, detail?: object): void {
      insert.run(type, recordId, collection, now(), detail ? JSON.stringify(detail) : null);
    },
  };
}
