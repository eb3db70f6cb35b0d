import os from 'node:os';
import pg from 'pg';
import { CleanupError } from '../../../cleanup/errors.ts';
import { CLEANUP_LOCK, LOCK_NAMESPACE } from '../locks.ts';
import { openFailure } from '../pool.ts';

export interface PostgresCleanupLock {
  release(): Promise<void>;
}

// The lock's connection names its run, so that a second run can say which one holds it.
const APPLICATION_PREFIX = 'guestkit cleanup: ';

/**
 * One cleanup at a time per database: a session-level advisory lock, held by a connection of its
 * own for the whole run. Unlike the lock file, nothing is left behind by a run that crashes or is
 * killed: the server ends the session when its connection drops, and the lock goes with it. If
 * the connection is lost while the run goes on, a second run may start beside it; that costs only
 * duplicate work, since every batch locks its guests with SKIP LOCKED and re-checks the rule.
 */
export async function acquirePostgresCleanupLock(databaseUrl: string): Promise<PostgresCleanupLock> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: `${APPLICATION_PREFIX}pid ${process.pid} on ${os.hostname()}` });
  // A lost connection fails the next query on it; unheard, the 'error' event would end the process.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    throw openFailure(databaseUrl, error);
  }
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [LOCK_NAMESPACE, CLEANUP_LOCK]);
    if (!rows[0]!.locked) {
      const holder = await describeHolder(client);
      throw new CleanupError('locked', `another cleanup is running${holder ? ` (${holder})` : ''}`);
    }
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  // Ending the session releases the lock.
  return { release: () => client.end() };
}

/** "pid 4242 on web-1", from the holder's application name; else the server's process id for it. */
async function describeHolder(client: pg.Client): Promise<string | null> {
  const { rows } = await client.query<{ pid: number; name: string }>(`
    SELECT a.pid, a.application_name AS name FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid AND l.objsubid = 2
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`, [LOCK_NAMESPACE, CLEANUP_LOCK]);
  const holder = rows[0];
  if (!holder) return null; // it has just finished
  return holder.name.startsWith(APPLICATION_PREFIX) ? holder.name.slice(APPLICATION_PREFIX.length) : `database session ${holder.pid}`;
}

/** Runs `work` holding the lock, and releases it however `work` ends. */
export async function withPostgresCleanupLock<T>(databaseUrl: string, work: () => Promise<T>): Promise<T> {
  const lock = await acquirePostgresCleanupLock(databaseUrl);
  try {
    return await work();
  } finally {
    await lock.release();
  }
}
