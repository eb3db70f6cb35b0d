import type Database from 'better-sqlite3';
import { createUnitOfWork, type Transactor, type Write } from '../unit-of-work.ts';
import { createLockWait, type LockWait } from './lock-wait.ts';

/** A SQLite write: better-sqlite3 is synchronous, so applying one is a plain function call. */
interface SqliteWrite<T> extends Write<T> { apply(): T }

/** Wraps the synchronous statements of one write; the SQLite stores build every write with this. */
export function sqliteWrite<T>(apply: () => T): Write<T> {
  return { apply } as SqliteWrite<T>;
}

/**
 * Units of work on one better-sqlite3 connection. A transaction here is synchronous from BEGIN
 * to COMMIT (no `await` inside), so no other request's statements can slip into it, and none is
 * ever open across a bcrypt hash or any other slow step. IMMEDIATE takes the write lock up front,
 * so a transaction that must wait for another process (cleanup) waits before its first
 * statement, on a timer (lock-wait.ts): the other requests go on meanwhile.
 */
export function createSqliteTransactor(db: Database.Database, whenUnlocked: LockWait = createLockWait(db)): Transactor {
  const applyAll = db.transaction((writes: ReadonlyArray<Write<unknown>>) => {
    const results: unknown[] = [];
    for (const write of writes) results.push((write as SqliteWrite<unknown>).apply());
    return results;
  });
  const transact = (writes: ReadonlyArray<Write<unknown>>): Promise<unknown[]> => whenUnlocked(() => applyAll.immediate(writes));

  return {
    begin: () => createUnitOfWork(transact),
    apply: async <T>(write: Write<T>) => (await transact([write]))[0] as T,
  };
}

/**
 * Applies a SQLite write at once, in the caller's transaction if there is one: for SQLite-only
 * tools (seeding millions of guests, test fixtures) that write outside any page render.
 */
export function applySqliteWrite<T>(write: Write<T>): T {
  return (write as SqliteWrite<T>).apply();
}
