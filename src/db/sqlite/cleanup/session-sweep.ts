import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Db } from '../open.ts';

const OF_ACCOUNTS = `json_extract(sess, '$.auth.id') IN (SELECT value FROM json_each(?))`;

/** The sessions a dry run would remove with these guests: a read, on the caller's connection. */
export function sessionCounter(sessionDb: Db): (ids: readonly string[]) => number {
  const count = sessionDb.prepare(`SELECT count(*) FROM main.sessions WHERE ${OF_ACCOUNTS}`).pluck();
  return (ids) => (ids.length === 0 ? 0 : count.get(JSON.stringify(ids)) as number);
}

/**
 * The statements of the sweep, run on the worker's own connection (a temp table belongs to the
 * connection that made it). A noted row is deleted only if it still belongs to the removed guest:
 * a rowid can be reused.
 */
const STATEMENTS = {
  setUp: `CREATE TEMP TABLE IF NOT EXISTS cleanup_sessions (rowid INTEGER PRIMARY KEY, account TEXT NOT NULL);
    DELETE FROM temp.cleanup_sessions;`,
  note: `INSERT OR IGNORE INTO temp.cleanup_sessions (rowid, account)
    SELECT s.rowid, j.value FROM json_each(?) AS j JOIN main.sessions AS s ON json_extract(s.sess, '$.auth.id') = j.value`,
  noted: 'SELECT count(*) FROM temp.cleanup_sessions WHERE rowid > ?',
  upTo: 'SELECT rowid FROM temp.cleanup_sessions WHERE rowid > ? ORDER BY rowid LIMIT 1 OFFSET ?',
  last: 'SELECT max(rowid) FROM temp.cleanup_sessions',
  remove: `DELETE FROM main.sessions WHERE rowid IN
      (SELECT rowid FROM temp.cleanup_sessions WHERE rowid > :after AND rowid <= :upTo)
    AND json_extract(sess, '$.auth.id') = (SELECT account FROM temp.cleanup_sessions AS c WHERE c.rowid = sessions.rowid)`,
  forget: 'DELETE FROM temp.cleanup_sessions',
};

// Plain JavaScript evaluated from a string, so it runs the same under tsx, vitest and node (as
// the checkpointer's). Requests are answered in order; a sweep of a full chunk runs between them.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlitePath);
const { file, sql, pragmas, chunk, statementLimit } = workerData;
let db, note, noted, upTo, last, remove, forget;
// A failure to open is each request's answer: the caller hears it at its next call.
let broken = null;
try {
  db = new Database(file);
  for (const pragma of pragmas) db.pragma(pragma);
  db.exec(sql.setUp);
  note = db.prepare(sql.note);
  noted = db.prepare(sql.noted).pluck();
  upTo = db.prepare(sql.upTo).pluck();
  last = db.prepare(sql.last).pluck();
  remove = db.prepare(sql.remove);
  forget = db.prepare(sql.forget);
} catch (error) {
  broken = String(error && error.message || error);
}
let after = 0;
let notedSinceSweep = 0;

// Deletes up to limit noted sessions after the cursor, in one short statement; null when none are left.
function removeNext(limit) {
  const end = upTo.get(after, limit - 1) ?? last.get();
  if (end === null || end <= after) {
    forget.run();
    after = 0;
    return null;
  }
  const removed = remove.run({ after, upTo: end }).changes;
  after = end;
  return removed;
}

// Every noted session, in rowid order (neighbouring rows share pages), then the notes forgotten.
function sweep() {
  let removed = 0;
  for (let went = removeNext(statementLimit); went !== null; went = removeNext(statementLimit)) {
    removed += went;
    parentPort.postMessage({ type: 'committed' });
  }
  notedSinceSweep = 0;
  return removed;
}

parentPort.on('message', (request) => {
  try {
    if (request.type === 'close') {
      db?.close();
      parentPort.close();
      return;
    }
    if (broken) throw new Error(broken);
    if (request.type === 'note') {
      if (request.ids.length > 0) notedSinceSweep += note.run(JSON.stringify(request.ids)).changes;
      const removed = notedSinceSweep >= chunk ? sweep() : 0;
      if (removed > 0) parentPort.postMessage({ type: 'removed', removed });
      return;
    }
    if (request.type === 'forget') {
      forget.run();
      after = 0;
      notedSinceSweep = 0;
      return parentPort.postMessage({ type: 'reply', id: request.id, value: null });
    }
    if (request.type === 'noted') return parentPort.postMessage({ type: 'reply', id: request.id, value: noted.get(after) });
    if (request.type === 'step') {
      const value = removeNext(request.limit);
      if (value !== null) parentPort.postMessage({ type: 'committed' });
      return parentPort.postMessage({ type: 'reply', id: request.id, value });
    }
  } catch (error) {
    parentPort.postMessage({ type: 'error', id: request.id, message: String(error && error.message || error) });
  }
});`;

export interface SessionSweeper {
  /** Notes the sessions of these just-removed guests; once a chunk is noted, the worker removes them meanwhile. */
  note(ids: readonly string[]): void;
  /** How many noted sessions are still to remove. */
  noted(): Promise<number>;
  /**
   * Removes up to `limit` more noted sessions in one short write; null once none are left.
   * Waits for the removals already under way.
   */
  removeNext(limit: number): Promise<number | null>;
  /** Sessions removed in the background and not yet taken. */
  removedMeanwhile(): number;
  /** Those, counted once: the count starts again from 0. */
  takeRemovedMeanwhile(): number;
  /** Drops every note not yet swept (a run that stopped early); resolves to the sessions removed meanwhile not yet taken. */
  forget(): Promise<number>;
  close(): Promise<void>;
}

export interface SessionSweeperOptions {
  /** The pragmas of cleanup's connections (busy timeout, no autocheckpoint...). */
  pragmas: readonly string[];
  /** Noted sessions that start a background sweep. */
  chunk: number;
  /** Sessions per delete statement: each holds sessions.db's write lock, which the server's session saves wait for. */
  statementLimit: number;
  /** Called after each of the worker's commits (the checkpointer's nudge). */
  committed(): void;
}

/**
 * Removes the sessions of removed guests from connect-sqlite3's table on a worker thread of its
 * own, with its own connection: sessions.db is another file with its own write lock, so its
 * deletes run beside the guest batches instead of after them (at 200,000 guests, 40% of the
 * run's main thread). Sessions are noted as their guests go (rowid and account, found through the
 * index on the session's account id; a read). Each chunk of noted rows is deleted in rowid
 * order: the table and its expiry index are laid out in creation order, so neighbouring rows
 * share pages, where deleting them guest by guest would rewrite a random page for each one
 * (measured: chunks of 50,000 cost what one sweep at the end costs).
 */
export function startSessionSweeper(file: string, options: SessionSweeperOptions): SessionSweeper {
  const sqlitePath = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { sqlitePath, file, sql: STATEMENTS, pragmas: [...options.pragmas], chunk: options.chunk, statementLimit: options.statementLimit },
  });
  let failure: Error | null = null;
  let removedMeanwhile = 0;
  let nextId = 0;
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();

  const fail = (error: Error) => {
    failure ??= error;
    for (const request of pending.values()) request.reject(failure);
    pending.clear();
  };
  worker.on('message', (message: { type: string; id?: number; value?: unknown; removed?: number; message?: string }) => {
    if (message.type === 'committed') return options.committed();
    if (message.type === 'removed') return void (removedMeanwhile += message.removed!);
    if (message.type === 'error') return fail(new Error(`removing sessions failed: ${message.message}`));
    pending.get(message.id!)?.resolve(message.value);
    pending.delete(message.id!);
  });
  worker.on('error', (error) => fail(new Error(`removing sessions failed: ${error.message}`)));

  const takeRemovedMeanwhile = () => {
    const removed = removedMeanwhile;
    removedMeanwhile = 0;
    return removed;
  };

  function ask<T>(request: Record<string, unknown>): Promise<T> {
    if (failure) return Promise.reject(failure);
    const id = ++nextId;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ ...request, id });
    });
  }

  return {
    note(ids) {
      if (failure) throw failure;
      worker.postMessage({ type: 'note', ids: [...ids] });
    },
    noted: () => ask<number>({ type: 'noted' }),
    removeNext: (limit) => ask<number | null>({ type: 'step', limit }),
    removedMeanwhile: () => removedMeanwhile,
    async forget() {
      await ask({ type: 'forget' });
      return takeRemovedMeanwhile();
    },
    takeRemovedMeanwhile,
    close: () => new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.postMessage({ type: 'close' });
    }),
  };
}
