import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { BUSY_TIMEOUT_MS } from '../open.ts';

/**
 * Copies cleanup's writes from the WAL files into the databases on a worker thread.
 *
 * Each cleanup batch rewrites about a thousand pages; checkpointing them inline (SQLite's
 * autocheckpoint, at the commit) means two fsyncs per batch on the deleting thread, which was
 * most of the run's time. Here the worker checkpoints while the next batch runs, and one
 * checkpoint covers every batch committed since the last one (a page rewritten by several
 * batches is copied once). A checkpoint in progress also makes the live server's own
 * autocheckpoint skip (it answers SQLITE_BUSY at once), so the server's requests never do this
 * copying. The connections that write must turn their autocheckpoint off (`wal_autocheckpoint = 0`).
 */
export interface Checkpointer {
  /** Call after each commit. */
  nudge(): void;
  /**
   * Every `maxLag` commits, waits until the worker has checkpointed all of them. A WAL file
   * restarts from its beginning only when a write begins with everything checkpointed; while
   * the worker checkpoints one batch as the next is written, that never happens by itself, and
   * the WAL (and the cost of reading through it) would grow for the whole run.
   */
  keepUp(): Promise<void>;
  /** Waits for a checkpoint that covers every commit so far. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

// Plain JavaScript evaluated from a string, so it runs the same under tsx, vitest and node.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlitePath);
const dbs = workerData.files.map((file) => {
  const db = new Database(file);
  db.pragma('busy_timeout = ${BUSY_TIMEOUT_MS}');
  db.pragma('synchronous = NORMAL');
  return db;
});
let latest = 0;
let scheduled = false;
parentPort.on('message', (seq) => {
  if (seq === 'close') {
    for (const db of dbs) db.close();
    parentPort.close();
    return;
  }
  latest = Math.max(latest, seq);
  if (scheduled) return;
  scheduled = true;
  // After the messages already queued, so one checkpoint covers them all.
  setImmediate(() => {
    scheduled = false;
    const covered = latest;
    try {
      for (const db of dbs) db.pragma('wal_checkpoint(PASSIVE)');
      parentPort.postMessage({ covered });
    } catch (error) {
      parentPort.postMessage({ covered, error: String(error && error.message || error) });
    }
  });
});`;

const DEFAULT_MAX_LAG = 32;

export function startCheckpointer(files: readonly string[], options: { maxLag?: number } = {}): Checkpointer {
  const maxLag = options.maxLag ?? DEFAULT_MAX_LAG;
  const sqlitePath = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { sqlitePath, files: [...files] } });
  let sent = 0;
  let covered = 0;
  let lastCatchUp = 0;
  let failure: Error | null = null;
  const waiting: Array<{ until: number; resolve(): void; reject(error: Error): void }> = [];

  const settle = () => {
    for (const waiter of waiting.splice(0)) {
      if (failure) waiter.reject(failure);
      else if (covered >= waiter.until) waiter.resolve();
      else waiting.push(waiter);
    }
  };
  worker.on('message', (message: { covered: number; error?: string }) => {
    covered = Math.max(covered, message.covered);
    if (message.error) failure = new Error(`checkpoint failed: ${message.error}`);
    settle();
  });
  worker.on('error', (error) => {
    failure = error;
    settle();
  });
  const coverAll = (): Promise<void> => {
    if (failure) return Promise.reject(failure);
    if (covered >= sent) return Promise.resolve();
    return new Promise((resolve, reject) => waiting.push({ until: sent, resolve, reject }));
  };

  return {
    nudge() {
      worker.postMessage(++sent);
    },
    keepUp() {
      if (sent - lastCatchUp < maxLag) return Promise.resolve();
      lastCatchUp = sent;
      return coverAll();
    },
    drain() {
      worker.postMessage(++sent);
      return coverAll();
    },
    /** Closes the worker's connections; call after `drain()`. */
    close() {
      return new Promise<void>((resolve) => {
        worker.once('exit', () => resolve());
        worker.postMessage('close');
      });
    },
  };
}
