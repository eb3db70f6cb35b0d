import type { EventLog } from '../../auth/stores.ts';
import { postgresWrite } from './unit-of-work.ts';

/** The columns of `auth_events` every writer fills, spelled once (cleanup writes `guest_deleted` in bulk). */
export const EVENT_COLUMNS = 'type, record_id, collection, created_at, detail';

const INSERT_EVENT = { name: 'auth_events_insert', text: `INSERT INTO auth_events (${EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5)` };

/** `auth_events` in PostgreSQL; the time is taken when the event is recorded, not when it is applied. */
export function createPostgresEventLog(now: () => number): EventLog {
  return {
    record(type, recordId, collection, detail) {
      const values = [type, recordId, collection, now(), detail ? JSON.stringify(detail) : null];
      return postgresWrite(async (client) => void await client.query({ ...INSERT_EVENT, values }));
    },
  };
}
