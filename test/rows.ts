/**
 * Stored rows, read and arranged the same way on either backend. `app.sql` runs one query on
 * SQLite's app.db or on the app's PostgreSQL database; what differs beyond a query (where and how
 * sessions are stored, the catalogue of tables, a trigger) is decided here, once, so a spec
 * states what it expects and never which backend it runs on.
 */
import type { TestApp } from './support.ts';

/** The first row of a query, or undefined (better-sqlite3's `get()`). */
export async function firstRow<T = Record<string, unknown>>(app: TestApp, query: string, ...params: unknown[]): Promise<T | undefined> {
  return (await app.sql<T>(query, ...params))[0];
}

/** The first column of the first row, or undefined (better-sqlite3's `pluck().get()`). */
export async function scalar<T = unknown>(app: TestApp, query: string, ...params: unknown[]): Promise<T | undefined> {
  const row = await firstRow(app, query, ...params);
  return row === undefined ? undefined : Object.values(row)[0] as T;
}

/** The first column of every row (better-sqlite3's `pluck().all()`). */
export async function column<T = unknown>(app: TestApp, query: string, ...params: unknown[]): Promise<T[]> {
  return (await app.sql(query, ...params)).map((row) => Object.values(row)[0] as T);
}

/** `count(*)` of a table, with an optional `where` clause. */
export async function countOf(app: TestApp, table: string, where = 'TRUE', ...params: unknown[]): Promise<number> {
  return (await scalar<number>(app, `SELECT count(*) AS n FROM ${table} WHERE ${where}`, ...params))!;
}

/** The tables of the app database, by name. */
export function tableNames(app: TestApp): Promise<string[]> {
  return app.backend === 'sqlite'
    ? column<string>(app, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
    : column<string>(app, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`);
}

/**
 * Every table, index and sequence of the app database with its definition: two equal schemas
 * mean nothing was dropped, added or altered.
 */
export function schemaOf(app: TestApp): Promise<unknown[]> {
  if (app.backend === 'sqlite') return app.sql('SELECT type, name, sql FROM sqlite_master ORDER BY name');
  return app.sql(`SELECT c.relkind AS type, c.relname AS name,
      CASE WHEN c.relkind = 'i' THEN pg_get_indexdef(c.oid)
        ELSE (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
          FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) END AS sql
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' ORDER BY c.relname`);
}

/**
 * Makes every insert into `table` whose new row matches `condition` (written with `NEW.`) fail,
 * as a full disk would, until the returned function is called.
 */
export async function failInserts(app: TestApp, table: string, condition: string, message: string): Promise<() => Promise<void>> {
  const name = `fail_${table}`;
  if (app.backend === 'sqlite') {
    // A TEMP trigger lives on the app's own connection, which app.db is.
    app.db.exec(`CREATE TEMP TRIGGER ${name} BEFORE INSERT ON ${table} WHEN ${condition}
      BEGIN SELECT RAISE(ABORT, '${message}'); END`);
    return async () => { app.db.exec(`DROP TRIGGER temp.${name}`); };
  }
  await app.sql(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '${message}'; END $$`);
  await app.sql(`CREATE TRIGGER ${name} BEFORE INSERT ON ${table} FOR EACH ROW WHEN (${condition}) EXECUTE FUNCTION ${name}()`);
  return async () => {
    await app.sql(`DROP TRIGGER ${name} ON ${table}`);
    await app.sql(`DROP FUNCTION ${name}()`);
  };
}

// Sessions: SQLite keeps them in sessions.db (connect-sqlite3's `sessions(sid, expired, sess)`),
// PostgreSQL in the app database (`sessions(sid, sess, expires_at, account_id)`); both store
// express-session's JSON as text.

export interface StoredSession { sid: string; sess: Record<string, unknown> }

/** The session id in express-session's signed cookie value, `s:<sid>.<signature>`. */
export function sessionIdIn(cookie: string): string {
  const signed = decodeURIComponent(cookie).slice('s:'.length);
  return signed.slice(0, signed.lastIndexOf('.'));
}

interface SessionTable {
  rows(sid?: string): Promise<Array<{ sid: string; sess: string }>>;
  write(sid: string, sess: string): Promise<void>;
  expire(sid: string, at: number): Promise<void>;
  insertExpired(count: number, at: number): Promise<void>;
  deleteAll(): Promise<void>;
}

function sessionTable(app: TestApp): SessionTable {
  if (app.backend === 'postgres') {
    return {
      rows: (sid) => (sid === undefined
        ? app.sql('SELECT sid, sess FROM sessions')
        : app.sql('SELECT sid, sess FROM sessions WHERE sid = ?', sid)),
      write: async (sid, sess) => { await app.sql('UPDATE sessions SET sess = ? WHERE sid = ?', sess, sid); },
      expire: async (sid, at) => { await app.sql('UPDATE sessions SET expires_at = ? WHERE sid = ?', at, sid); },
      insertExpired: async (count, at) => {
        await app.sql(`INSERT INTO sessions (sid, sess, expires_at)
          SELECT 'old-' || i, '{"cookie":{}}', ?::bigint FROM generate_series(1, ?::int) AS i`, at, count);
      },
      deleteAll: async () => { await app.sql('DELETE FROM sessions'); },
    };
  }
  const db = app.sessionDb;
  return {
    rows: async (sid) => (sid === undefined
      ? db.prepare('SELECT sid, sess FROM sessions').all()
      : db.prepare('SELECT sid, sess FROM sessions WHERE sid = ?').all(sid)) as Array<{ sid: string; sess: string }>,
    write: async (sid, sess) => { db.prepare('UPDATE sessions SET sess = ? WHERE sid = ?').run(sess, sid); },
    expire: async (sid, at) => { db.prepare('UPDATE sessions SET expired = ? WHERE sid = ?').run(at, sid); },
    insertExpired: async (count, at) => {
      const insert = db.prepare('INSERT INTO sessions (sid, expired, sess) VALUES (?, ?, ?)');
      db.transaction(() => { for (let i = 1; i <= count; i++) insert.run(`old-${i}`, at, '{"cookie":{}}'); })();
    },
    deleteAll: async () => { db.exec('DELETE FROM sessions'); },
  };
}

/** Every stored session, its contents parsed. */
export async function storedSessions(app: TestApp): Promise<StoredSession[]> {
  return (await sessionTable(app).rows()).map(({ sid, sess }) => ({ sid, sess: JSON.parse(sess) as Record<string, unknown> }));
}

/**
 * Whether the session `sid`, replaced at a change of identity, is as it must be: still there for a
 * racing twin request (a double click's second post), signed in to no one, and expiring in seconds.
 */
export async function isReplacedSession(app: TestApp, sid: string): Promise<boolean> {
  const left = await storedSession(app, sid);
  if (!left) return false;
  const expires = Date.parse(String((left.cookie as { expires?: unknown } | undefined)?.expires));
  return left.auth === undefined && expires - Date.now() <= 10_000;
}

/** The contents of the session `sid`, or undefined when no such session is stored. */
export async function storedSession(app: TestApp, sid: string): Promise<Record<string, unknown> | undefined> {
  const [row] = await sessionTable(app).rows(sid);
  return row ? JSON.parse(row.sess) as Record<string, unknown> : undefined;
}

export async function sessionCount(app: TestApp): Promise<number> {
  return (await sessionTable(app).rows()).length;
}

/** The stored sessions signed in to `accountId` (their `auth.id`). */
export async function sessionsSignedInTo(app: TestApp, accountId: string): Promise<StoredSession[]> {
  return (await storedSessions(app)).filter(({ sess }) => (sess.auth as { id?: string } | undefined)?.id === accountId);
}

/** Rewrites stored sessions in place, as the server would find them: every one, or only `sid`. */
export async function tamperSessions(app: TestApp, change: (sess: Record<string, unknown>) => void, sid?: string): Promise<void> {
  const table = sessionTable(app);
  for (const row of await table.rows(sid)) {
    const sess = JSON.parse(row.sess) as Record<string, unknown>;
    change(sess);
    await table.write(row.sid, JSON.stringify(sess));
  }
}

/** Gives the session `sid` an expiry of `at` (Unix ms). */
export function expireSession(app: TestApp, sid: string, at: number): Promise<void> {
  return sessionTable(app).expire(sid, at);
}

/** Stores `count` sessions (`old-1`…) that expired at `at`, as a backlog the purge must clear. */
export function insertExpiredSessions(app: TestApp, count: number, at: number): Promise<void> {
  return sessionTable(app).insertExpired(count, at);
}

/** Deletes every stored session, as a server that lost its session store would find it. */
export function deleteAllSessions(app: TestApp): Promise<void> {
  return sessionTable(app).deleteAll();
}
