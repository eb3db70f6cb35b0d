import session from 'express-session';
import type pg from 'pg';
import type { SessionIndex, StoredRecord } from '../../auth/stores.ts';
import type { RenderSessionSave, SessionStorage } from '../../http/sessions.ts';
import { toRecord, type AccountRow } from './account-store.ts';
import { isMissingAccount } from './errors.ts';
import { quotedTable } from './identifiers.ts';
import { expiresAtOf, rowOf, sessionSaveWrite, sessionValues, UPSERT_SESSION, type SessionRow } from './session-rows.ts';

const PURGE_BATCH = 1000;

// Named statements: pg prepares each once per pooled connection, and Postgres plans it once.
/**
 * A session, and the account it is signed in to from each collection's table (at most one
 * matches: ids are unique across collections), in one statement. Every signed-in page view
 * needs both: read apart, they were two round trips where the floor makes one.
 */
function getStatement(collections: readonly string[]) {
  const joins = collections.map((collection, i) => `LEFT JOIN ${quotedTable(collection)} AS c${i} ON c${i}.id = s.account_id`);
  return {
    name: 'sessions_get',
    text: `SELECT s.sess, s.account_id, ${collections.map((_, i) => `to_json(c${i}) AS c${i}`).join(', ')} FROM sessions AS s
      ${joins.join(' ')} WHERE s.sid = $1 AND s.expires_at >= $2`,
  };
}
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

/**
 * How far express-session may have moved a session's expiry between a render's save of it and
 * its own (it resets the cookie's max age as the response ends) for that save to count as the
 * same: milliseconds, in practice.
 */
const SAVED_IN_RENDER_DRIFT_MS = 60_000;

/** A session as a render saved it: its row, and its data but for the cookie (see `set`). */
interface SavedInRender { row: SessionRow; data: string }

const dataOf = (sess: session.SessionData) => JSON.stringify({ ...sess, cookie: undefined });

/** Settles `callback` once, with the work's result or its error (connect-sqlite3 can call back twice). */
function settle<T>(work: () => Promise<T>, callback?: (error: unknown, value?: T) => void): void {
  work().then((value) => callback?.(null, value), (error: unknown) => callback?.(error));
}

/** The account a session names, as read with it: null when it no longer exists. */
interface AccountRead { sid: string; account: StoredRecord | null }

/**
 * express-session's store on the app's own database. Ours rather than connect-pg-simple because
 * each row records the account it is signed in to (`account_id`, from `sess.auth.id`): deleting
 * an account then ends its sessions by cascade, in the same transaction; and reading a session
 * reads that account with it, for authenticate (`takeAccountRead`).
 */
class PostgresSessionStore extends session.Store {
  readonly #get: { name: string; text: string };
  /** What the last `get` read of the account its session names, until `takeAccountRead` hands it over. */
  #accountRead: AccountRead | undefined;
  /** Sessions a render's transaction wrote (`saveInRender`), until express-session saves them. */
  readonly #savedInRender = new WeakMap<object, SavedInRender>();

  constructor(private readonly pool: pg.Pool, private readonly collections: readonly string[]) {
    super();
    this.#get = getStatement(collections);
  }

  override get(sid: string, callback: (error: unknown, sess?: session.SessionData | null) => void): void {
    settle(() => this.#read(sid), (error, read) => {
      if (error) return callback(error);
      // Set just before the callback, which takes it (createSessions): nothing runs in between.
      this.#accountRead = read?.account;
      callback(null, read?.sess ?? null);
    });
  }

  async #read(sid: string): Promise<{ sess: session.SessionData; account: AccountRead | undefined } | null> {
    const { rows } = await this.pool.query<Record<string, unknown> & { sess: string; account_id: string | null }>({ ...this.#get, values: [sid, Date.now()] });
    const row = rows[0];
    if (!row) return null;
    const sess = JSON.parse(row.sess) as session.SessionData;
    const i = this.collections.indexOf(sess.auth?.collection as string);
    // The join follows account_id, which `set` takes from sess.auth: any other row was not read for it.
    if (i < 0 || row.account_id !== sess.auth?.id) return { sess, account: undefined };
    const account = row[`c${i}`] as AccountRow | null;
    return { sess, account: { sid, account: account ? toRecord(this.collections[i]!, account) : null } };
  }

  takeAccountRead(sid: string): StoredRecord | null | undefined {
    const read = this.#accountRead;
    this.#accountRead = undefined;
    return read?.sid === sid ? read.account : undefined;
  }

  /**
   * The write that saves `current` as `data` in a render's transaction (for a new guest, in the
   * guest's own statement), and what to run once that transaction has committed: from then on
   * express-session's save of this same session, unchanged, writes nothing.
   */
  saveInRender(current: session.Session, data: session.SessionData): RenderSessionSave {
    const saved: SavedInRender = { row: rowOf(current.id, data, Date.now()), data: dataOf(data) };
    let applied = false;
    return {
      write: sessionSaveWrite({ row: saved.row, applied: () => { applied = true; } }),
      committed: () => { if (applied) this.#savedInRender.set(current, saved); },
    };
  }

  override set(sid: string, sess: session.SessionData, callback?: (error?: unknown) => void): void {
    const now = Date.now();
    const saved = this.#savedInRender.get(sess);
    if (saved) {
      this.#savedInRender.delete(sess);
      const moved = expiresAtOf(sess, now) - saved.row.expiresAt;
      // express-session handles a store that calls back at once.
      if (saved.row.sid === sid && saved.data === dataOf(sess) && moved >= 0 && moved <= SAVED_IN_RENDER_DRIFT_MS) return void callback?.();
    }
    settle(async () => {
      const row = rowOf(sid, sess, now);
      try {
        await this.pool.query({ ...UPSERT_SESSION, values: sessionValues(row) });
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
export function openPostgresSessionStorage(pool: pg.Pool, collections: readonly string[]): SessionStorage {
  const store = new PostgresSessionStore(pool, collections);
  return {
    store,
    takeAccountRead: (sid) => store.takeAccountRead(sid),
    saveInRender: (current, data) => store.saveInRender(current, data),
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
