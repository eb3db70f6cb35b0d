import session from 'express-session';
import type pg from 'pg';
import type { SessionIndex } from '../../auth/stores.ts';
import type { SessionStorage } from '../../http/sessions.ts';
import { isMissingAccount } from './errors.ts';

const PURGE_BATCH = 1000;

/** A session whose cookie has no expiry (a browser-session cookie) is kept a day, as connect-pg-simple does. */
const NO_EXPIRY_TTL_MS = 86_400_000;

// Named statements: pg prepares each once per pooled connection, and Postgres plans it once.
const GET = {
  name: 'sessions_get',
  text: 'SELECT sess FROM sessions WHERE sid = $1 AND expires_at >= $2',
};
const SET = {
  name: 'sessions_set',
  text: `INSERT INTO sessions (sid, sess, expires_at, account_id) VALUES ($1, $2, $3, $4)
    ON CONFLICT (sid) DO UPDATE SET sess = EXCLUDED.sess, expires_at = EXCLUDED.expires_at, account_id = EXCLUDED.account_id`,
};
const DESTROY = { name: 'sessions_destroy', text: 'DELETE FROM sessions WHERE sid = $1' };
// Not past its expiry: an expired session reads as absent, and a touch must not bring it back.
const TOUCH = { name: 'sessions_touch', text: 'UPDATE sessions SET expires_at = $2 WHERE sid = $1 AND expires_at >= $3' };
const DELETE_FOR_ACCOUNT = { name: 'sessions_delete_for_account', text: 'DELETE FROM sessions WHERE account_id = $1' };
// FOR UPDATE re-reads a row a save changed since the batch was chosen, and drops it from the batch
// if its expiry moved on: without it, a session saved just then would be deleted anyway. SKIP
// LOCKED leaves a row being saved right now, and lets two purges share the work without waiting.
const PURGE = {
  name: 'sessions_purge',
  text: `DELETE FROM sessions WHERE sid IN
    (SELECT sid FROM sessions WHERE expires_at < $1 LIMIT ${PURGE_BATCH} FOR UPDATE SKIP LOCKED)`,
};

/** One `sessions` row: what the store writes for express-session's data. */
interface SessionRow { sid: string; sess: string; expiresAt: number; accountId: string | null }

/** When a session ends: its cookie's expiry, else its max age from `now`. */
function expiresAtOf(sess: session.SessionData, now: number): number {
  const { cookie } = sess;
  // express-session hands a Cookie whose `expires` is a Date; JSON read back, a string.
  if (cookie?.expires) return new Date(cookie.expires).getTime();
  const maxAge = cookie?.maxAge ?? cookie?.originalMaxAge;
  return now + (typeof maxAge === 'number' ? maxAge : NO_EXPIRY_TTL_MS);
}

function rowOf(sid: string, sess: session.SessionData, now: number): SessionRow {
  const accountId = typeof sess.auth?.id === 'string' ? sess.auth.id : null;
  return { sid, sess: JSON.stringify(sess), expiresAt: expiresAtOf(sess, now), accountId };
}

/** Settles `callback` once, with the work's result or its error (connect-sqlite3 can call back twice). */
function settle<T>(work: () => Promise<T>, callback?: (error: unknown, value?: T) => void): void {
  work().then((value) => callback?.(null, value), (error: unknown) => callback?.(error));
}

/**
 * express-session's store on the app's own database. Ours rather than connect-pg-simple because
 * each row records the account it is signed in to (`account_id`, from `sess.auth.id`): deleting
 * an account then ends its sessions by cascade, in the same transaction.
 */
class PostgresSessionStore extends session.Store {
  constructor(private readonly pool: pg.Pool) { super(); }

  override get(sid: string, callback: (error: unknown, sess?: session.SessionData | null) => void): void {
    settle(async () => {
      const { rows } = await this.pool.query<{ sess: string }>({ ...GET, values: [sid, Date.now()] });
      return rows[0] ? JSON.parse(rows[0].sess) as session.SessionData : null;
    }, callback);
  }

  override set(sid: string, sess: session.SessionData, callback?: (error?: unknown) => void): void {
    settle(async () => {
      const row = rowOf(sid, sess, Date.now());
      try {
        await this.pool.query({ ...SET, values: [row.sid, row.sess, row.expiresAt, row.accountId] });
      } catch (error) {
        if (!isMissingAccount(error)) throw error;
        // The account was deleted (by cleanup, or on another device) while this request ran,
        // and its sessions with it. Keeping this one, even signed out, would let the request
        // that lost the race undo that "end every session"; so it goes too, as if the deletion
        // had come a moment later, and the visitor is signed out on the next request.
        await this.pool.query({ ...DESTROY, values: [sid] });
      }
    }, callback);
  }

  override destroy(sid: string, callback?: (error?: unknown) => void): void {
    settle(async () => void await this.pool.query({ ...DESTROY, values: [sid] }), callback);
  }

  // createSessions switches touch off (a write per page view); it is kept correct all the same.
  override touch(sid: string, sess: session.SessionData, callback?: (error?: unknown) => void): void {
    settle(async () => {
      const now = Date.now();
      await this.pool.query({ ...TOUCH, values: [sid, expiresAtOf(sess, now), now] });
    }, callback);
  }
}

function createPostgresSessionIndex(pool: pg.Pool): SessionIndex {
  return {
    deleteForAccount: async (id) => (await pool.query({ ...DELETE_FOR_ACCOUNT, values: [id] })).rowCount ?? 0,
    async purgeExpired(now) {
      let total = 0;
      for (;;) {
        const changes = (await pool.query({ ...PURGE, values: [now] })).rowCount ?? 0;
        total += changes;
        if (changes < PURGE_BATCH) return total;
      }
    },
  };
}

/**
 * Sessions in the `sessions` table (migrations/003-sessions.sql) of the pool's database. The
 * migrations have run (openPostgresStorage), so the store is ready at once; the pool belongs to
 * the storage, which closes it.
 */
export function openPostgresSessionStorage(pool: pg.Pool): SessionStorage {
  return {
    store: new PostgresSessionStore(pool),
    index: createPostgresSessionIndex(pool),
    ready: Promise.resolve(),
    close: async () => {},
  };
}

/**
 * Writes sessions as the store's `set` would (the same expiry and account), in one statement:
 * for tools and tests that make many at once. An account that does not exist fails the insert.
 */
export async function insertSessionRows(db: pg.Pool | pg.ClientBase,
  sessions: ReadonlyArray<{ sid: string; sess: session.SessionData }>, now = Date.now()): Promise<void> {
  const rows = sessions.map(({ sid, sess }) => rowOf(sid, sess, now));
  await db.query(`INSERT INTO sessions (sid, sess, expires_at, account_id)
    SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[])`,
  [rows.map((row) => row.sid), rows.map((row) => row.sess), rows.map((row) => row.expiresAt), rows.map((row) => row.accountId)]);
}
