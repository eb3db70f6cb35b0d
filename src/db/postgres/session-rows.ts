import type session from 'express-session';
import type { Write } from '../unit-of-work.ts';
import { postgresStatement } from './unit-of-work.ts';

/** A session whose cookie has no expiry (a browser-session cookie) is kept a day, as connect-pg-simple does. */
const NO_EXPIRY_TTL_MS = 86_400_000;

/** One `sessions` row: what the store writes for express-session's data. */
export interface SessionRow { sid: string; sess: string; expiresAt: number; accountId: string | null }

/** When a session ends: its cookie's expiry, else its max age from `now`. */
export function expiresAtOf(sess: session.SessionData, now: number): number {
  const { cookie } = sess;
  // express-session hands a Cookie whose `expires` is a Date; JSON read back, a string.
  if (cookie?.expires) return new Date(cookie.expires).getTime();
  const maxAge = cookie?.maxAge ?? cookie?.originalMaxAge;
  return now + (typeof maxAge === 'number' ? maxAge : NO_EXPIRY_TTL_MS);
}

export function rowOf(sid: string, sess: session.SessionData, now: number): SessionRow {
  const accountId = typeof sess.auth?.id === 'string' ? sess.auth.id : null;
  return { sid, sess: JSON.stringify(sess), expiresAt: expiresAtOf(sess, now), accountId };
}

/** The row's values after the columns written before them, as UPSERT_SESSION and the guest statement bind them. */
export function sessionValues(row: SessionRow): unknown[] {
  return [row.sid, row.sess, row.expiresAt, row.accountId];
}

/** A save of a session that has a row already replaces it: the tail of every session insert. */
export const ON_SESSION_CONFLICT = 'ON CONFLICT (sid) DO UPDATE SET sess = EXCLUDED.sess, expires_at = EXCLUDED.expires_at, account_id = EXCLUDED.account_id';

export const UPSERT_SESSION = {
  name: 'sessions_set',
  text: `INSERT INTO sessions (sid, sess, expires_at, account_id) VALUES ($1, $2, $3, $4) ${ON_SESSION_CONFLICT}`,
};

/** A session's save queued on a render's unit of work: its row, and what to call once the row is written. */
export interface SessionSave { row: SessionRow; applied(): void }

const saves = new WeakMap<Write<unknown>, SessionSave>();

/**
 * The write that saves `save.row` in a render's transaction. Alone it is one statement; after a
 * new guest it rides in the guest's own statement (account-store.ts `insertGuest`).
 */
export function sessionSaveWrite(save: SessionSave): Write<void> {
  const write = postgresStatement(async (db) => {
    await db.query({ ...UPSERT_SESSION, values: sessionValues(save.row) });
    save.applied();
  });
  saves.set(write, save);
  return write;
}

/** The session save `write` is, if it is one. */
export function sessionSaveOf(write: Write<unknown>): SessionSave | undefined {
  return saves.get(write);
}
