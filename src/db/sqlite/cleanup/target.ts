import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_BATCH_SIZE } from '../../../cleanup/args.ts';
import { migrate } from '../migrate.ts';
import { BUSY_TIMEOUT_MS, openDb, openSessionDb, type Db } from '../open.ts';
import { startCheckpointer, type Checkpointer } from './checkpointer.ts';
import { startSessionSweeper, type SessionSweeper } from './session-sweep.ts';

const WAL_SIZE_LIMIT = 16 * 1024 * 1024;

/** The two databases, every auth collection they hold (`config.collections`), and how WALs get checkpointed. */
export interface CleanupTarget {
  db: Db;
  sessionDb: Db;
  collections: readonly string[];
  /** Absent: each commit checkpoints inline (SQLite's autocheckpoint). */
  checkpointer?: Checkpointer;
}

export interface OpenTarget extends CleanupTarget {
  /** Removes the sessions of removed guests, on a worker thread with its own connection to sessions.db. */
  sessionSweeper: SessionSweeper;
  close(): Promise<void>;
}

/** Noted sessions that start a sweep on the worker: about 20 batches' worth. */
const SWEEP_CHUNK = 20_000;
/** Sessions per delete statement: each holds the lock the server's session saves wait for, as a guest batch does. */
const SWEEP_STATEMENT = DEFAULT_BATCH_SIZE.sqlite;

/**
 * Cleanup's own connections to `DATA_DIR/app.db` and `sessions.db` (never the server's: the temp
 * tables and pragmas here are per connection), with a background checkpointer. A missing
 * app.db is an error rather than a new empty database: it means DATA_DIR is wrong.
 */
export function openCleanupTarget(config: { dataDir: string; collections: readonly string[] }): OpenTarget {
  const appFile = path.join(config.dataDir, 'app.db');
  const sessionFile = path.join(config.dataDir, 'sessions.db');
  if (!fs.existsSync(appFile)) throw new Error(`no database at ${appFile}: is DATA_DIR right?`);
  const db = openDb(appFile);
  const sessionDb = openSessionDb(sessionFile);
  migrate(db, config.collections);
  // When one of our writes restarts a WAL, it trims the file back: it grows to tens of MB in a big run.
  const pragmas = ['wal_autocheckpoint = 0', `journal_size_limit = ${WAL_SIZE_LIMIT}`];
  for (const connection of [db, sessionDb]) for (const pragma of pragmas) connection.pragma(pragma);
  const checkpointer = startCheckpointer([appFile, sessionFile]);
  const sessionSweeper = startSessionSweeper(sessionFile, {
    pragmas: [`busy_timeout = ${BUSY_TIMEOUT_MS}`, 'synchronous = NORMAL', 'temp_store = MEMORY', ...pragmas],
    chunk: SWEEP_CHUNK, statementLimit: SWEEP_STATEMENT, committed: () => checkpointer.nudge(),
  });
  return {
    db, sessionDb, collections: config.collections, checkpointer, sessionSweeper,
    async close() {
      try {
        await sessionSweeper.close();
        await checkpointer.drain();
      } finally {
        await checkpointer.close();
        sessionDb.close();
        db.close();
      }
    },
  };
}
