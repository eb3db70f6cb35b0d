import fs from 'node:fs';
import path from 'node:path';
import { migrate } from '../migrate.ts';
import { openDb, openSessionDb, type Db } from '../open.ts';
import { startCheckpointer, type Checkpointer } from './checkpointer.ts';

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
  close(): Promise<void>;
}

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
  for (const connection of [db, sessionDb]) {
    connection.pragma('wal_autocheckpoint = 0');
    // When one of our writes restarts a WAL, it trims the file back: it grows to tens of MB in a big run.
    connection.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
  }
  const checkpointer = startCheckpointer([appFile, sessionFile]);
  return {
    db, sessionDb, collections: config.collections, checkpointer,
    async close() {
      try {
        await checkpointer.drain();
      } finally {
        await checkpointer.close();
        sessionDb.close();
        db.close();
      }
    },
  };
}
