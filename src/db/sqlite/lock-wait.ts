import { setTimeout as sleep } from 'node:timers/promises';
import { isBusy } from './errors.ts';
import { BUSY_TIMEOUT_MS, type Db } from './open.ts';

/** Runs a synchronous write transaction once SQLite's write lock is free. */
export type LockWait = <T>(write: () => T) => Promise<T>;

// The waits between tries, in ms, growing to a ceiling: close to SQLite's own busy handler
// (1, 2, 5, 10 … 100 ms), with a lower ceiling, since a cleanup batch holds the lock for
// tens of milliseconds and a waiting page should take the first gap after it.
const FIRST_WAIT_MS = 1;
const LONGEST_WAIT_MS = 25;

/**
 * Waits for the database's one write lock on a timer instead of inside better-sqlite3.
 *
 * Why: with a busy timeout, a write that finds the lock held by another process (a cleanup
 * batch) waits inside the synchronous call, and the whole server waits with it. Measured during
 * a cleanup of 1,000,000 guests (2026-12-02): the mail sender's once-a-second claim stalled the
 * event loop for up to 1,031 ms, and every page in flight with it; page p99 went from 36 to 99 ms.
 * Here a write tries the lock without waiting (busy timeout 0 for that call only), and when it
 * is taken, only the request that writes waits, on a timer, and tries again, until `timeoutMs`
 * has passed: then the `SQLITE_BUSY` error is thrown, as the busy timeout would have.
 *
 * Retrying is safe: `write` is one transaction (BEGIN IMMEDIATE takes the lock before any
 * statement runs, and a failure inside rolls all of it back), so a try that failed changed
 * nothing. Reads keep the connection's busy timeout: in WAL they do not take the write lock.
 */
export function createLockWait(db: Db, timeoutMs = BUSY_TIMEOUT_MS): LockWait {
  // `exec`, not a prepared statement run again: SQLite applies PRAGMA busy_timeout while it
  // compiles the statement, so a second run of the same prepared one changes nothing.
  const dontWait = 'PRAGMA busy_timeout = 0';
  const waitAgain = `PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`;

  function tryNow<T>(write: () => T): T {
    db.exec(dontWait);
    try {
      return write();
    } finally {
      db.exec(waitAgain);
    }
  }

  return async function whenUnlocked<T>(write: () => T): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (let wait = FIRST_WAIT_MS; ; wait = Math.min(wait * 2, LONGEST_WAIT_MS)) {
      try {
        return tryNow(write);
      } catch (error) {
        if (!isBusy(error) || Date.now() + wait > deadline) throw error;
      }
      await sleep(wait);
    }
  };
}
