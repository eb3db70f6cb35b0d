import type { EventEmitter } from 'node:events';
import path from 'node:path';
import session from 'express-session';
import connectSqlite3 from 'connect-sqlite3';
import sqlite3 from 'sqlite3';
import type { SessionStorage } from '../../http/sessions.ts';
import { SESSION_SCHEMA } from './open.ts';
import { createSessionIndex } from './session-index.ts';

const SQLiteStore = connectSqlite3(session);

/**
 * Sessions in `DATA_DIR/sessions.db`, through connect-sqlite3. We hand the store our own
 * node-sqlite3 connection so it gets a 5 s busy timeout (cleanup writes the same file) and WAL
 * (`concurrentDb`; the README's `concurrentDB` spelling is silently ignored). The server reaches
 * the file through this connection only (see open.ts `openSessionDb`).
 */
export function openSqliteSessionStorage(dataDir: string): SessionStorage {
  const db = new sqlite3.Database(path.join(dataDir, 'sessions.db'));
  db.configure('busyTimeout', 5000);
  // One statement at a time: in node-sqlite3's default parallel mode a `db.get` keeps its read
  // transaction open until it is finalized, and a write that overlaps it cannot wait for another
  // process's lock (SQLITE_BUSY at once, busy timeout or not: seen with cleanup running).
  db.serialize();
  // WAL with synchronous=NORMAL: a commit no longer waits for an fsync (a crash of the machine,
  // not of the app, can lose the last sessions written), as app.db does.
  db.exec(`PRAGMA synchronous = NORMAL; ${SESSION_SCHEMA}`);
  const store = new SQLiteStore({ db, table: 'sessions', concurrentDb: true });
  // connect-sqlite3 purges expired rows right after it connects; statements run in order, so one
  // queued after its 'connect' event completes after that purge.
  const ready = new Promise<void>((resolve) => {
    (store as unknown as { client: EventEmitter }).client.once('connect', () => db.get('SELECT 1', () => resolve()));
  });
  return {
    store,
    index: createSessionIndex(db),
    ready,
    // After `ready`: the store's start-up purge must not find its handle closed (an uncaught error).
    close: () => ready.then(() => new Promise<void>((resolve) => db.close(() => resolve()))),
  };
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
