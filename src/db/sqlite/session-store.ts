import type { EventEmitter } from 'node:events';
import path from 'node:path';
import session from 'express-session';
import connectSqlite3 from 'connect-sqlite3';
import sqlite3 from 'sqlite3';
import type { SessionStorage } from '../../http/sessions.ts';
import { BUSY_TIMEOUT_MS, SESSION_SCHEMA } from './open.ts';
import { createSessionIndex } from './session-index.ts';
import { createStatementPool, type StatementPool } from './statement-pool.ts';

const SQLiteStore = connectSqlite3(session);
/** connect-sqlite3's expiry for a session whose cookie has no max age. */
const ONE_DAY_MS = 86_400_000;

/**
 * Sessions in `DATA_DIR/sessions.db`, through connect-sqlite3. We hand the store our own
 * node-sqlite3 connection so it gets a 5 s busy timeout (cleanup writes the same file) and WAL
 * (`concurrentDb`; the README's `concurrentDB` spelling is silently ignored). The server reaches
 * the file through this connection only (see open.ts `openSessionDb`).
 *
 * The connection runs statements in parallel (node-sqlite3's default): serialized, every save
 * waited for the one before it to come back to the event loop, and under load that queue, not
 * SQLite, set the pace of new guests. Parallel is safe because no statement here is ever left
 * open between two steps (see SessionStore.get).
 */
export function openSqliteSessionStorage(dataDir: string): SessionStorage {
  const db = new sqlite3.Database(path.join(dataDir, 'sessions.db'));
  db.configure('busyTimeout', BUSY_TIMEOUT_MS);
  // WAL with synchronous=NORMAL: a commit no longer waits for an fsync (a crash of the machine,
  // not of the app, can lose the last sessions written), as app.db does.
  db.exec(`PRAGMA synchronous = NORMAL; ${SESSION_SCHEMA}`);
  const store = new SessionStore(db);
  // connect-sqlite3 queues its purge of expired rows right after its 'connect' event; `wait`
  // calls back once every statement queued before it has finished.
  const ready = new Promise<void>((resolve) => {
    (store as unknown as { client: EventEmitter }).client.once('connect', () => process.nextTick(() => db.wait(() => resolve())));
  });
  return {
    store,
    index: createSessionIndex(db),
    ready,
    // After `ready`: the store's start-up purge must not find its handle closed (an uncaught error).
    close: () => ready.then(() => store.finalize()).then(() => new Promise<void>((resolve, reject) => {
      db.close((error) => (error ? reject(error) : resolve()));
    })),
  };
}

/**
 * connect-sqlite3's store, with its three statements of every request kept prepared
 * (statement-pool.ts) and a session read with `all` instead of `get`. node-sqlite3's `get`
 * returns after the first row and leaves its statement open, holding a read transaction, until
 * the event loop finalizes it; a save running meanwhile on another thread of the same connection
 * then cannot wait for another process's write lock (SQLITE_BUSY at once, whatever the busy
 * timeout: seen with cleanup running). `all` steps to the end, so the read is over before any
 * other statement can start. The table's name is connect-sqlite3's default, as in SESSION_SCHEMA.
 */
class SessionStore extends SQLiteStore {
  readonly #read: StatementPool;
  readonly #save: StatementPool;
  readonly #remove: StatementPool;

  constructor(db: sqlite3.Database) {
    super({ db, table: 'sessions', concurrentDb: true });
    this.#read = createStatementPool(db, 'SELECT sess FROM sessions WHERE sid = ? AND ? <= expired');
    this.#save = createStatementPool(db, 'INSERT OR REPLACE INTO sessions VALUES (?, ?, ?)');
    this.#remove = createStatementPool(db, 'DELETE FROM sessions WHERE sid = ?');
  }

  override get(sid: string, callback: (error: unknown, session?: session.SessionData | null) => void): void {
    this.#read.all<{ sess: string }>([sid, Date.now()], (error, rows) => {
      if (error) return callback(error);
      callback(null, rows[0] ? JSON.parse(rows[0].sess) as session.SessionData : null);
    });
  }

  /** As connect-sqlite3 does: the row expires with the cookie, or in a day when the cookie has no max age (or 0). */
  override set(sid: string, data: session.SessionData, callback?: (error?: unknown) => void): void {
    let sess: string;
    try {
      sess = JSON.stringify(data);
    } catch (error) {
      return callback?.(error);
    }
    const expired = Date.now() + (data.cookie.maxAge || ONE_DAY_MS);
    this.#save.run([sid, expired, sess], (error) => callback?.(error ?? undefined));
  }

  override destroy(sid: string, callback?: (error?: unknown) => void): void {
    this.#remove.run([sid], (error) => callback?.(error ?? undefined));
  }

  /** Before the connection closes: it cannot while prepared statements are left. */
  finalize(): Promise<void> {
    return Promise.all([this.#read.finalize(), this.#save.finalize(), this.#remove.finalize()]).then(() => {});
  }
}

/**
 * A session row as express-session hands it to connect-sqlite3 for a signed-in visitor (or, with
 * `auth` null, one who never signed in): for tools that write sessions directly (seeding, tests).
 */
export function sessionRow(auth: { id: string; collection: string } | null,
  options: { activeAt?: number; ttlMs: number; now: number; extra?: Record<string, unknown> }): { expired: number; sess: string } {
  const expired = options.now + options.ttlMs;
  const sess = {
    cookie: { originalMaxAge: options.ttlMs, expires: new Date(expired).toISOString(), httpOnly: true, path: '/', sameSite: 'lax' },
    ...(auth ? { auth, activeAt: options.activeAt ?? 0 } : {}),
    ...options.extra,
  };
  return { expired, sess: JSON.stringify(sess) };
}
