import type Database from 'better-sqlite3';
import type { Transactor, UnitOfWork, Write } from '../unit-of-work.ts';

/** A SQLite write: better-sqlite3 is synchronous, so applying one is a plain function call. */
interface SqliteWrite<T> extends Write<T> { apply(): T }

/** Wraps the synchronous statements of one write; stores build every write with this. */
export function sqliteWrite<T>(apply: () => T): Write<T> {
  return { apply } as SqliteWrite<T>;
}

/**
 * Units of work on one better-sqlite3 connection. A transaction here is synchronous from BEGIN to
 * COMMIT (no `await` inside), so no other request's statements can slip into it, and none is ever
 * open across a bcrypt hash or any other slow step. IMMEDIATE takes the write lock up front: a
 * second process (cleanup) then waits on the busy timeout instead of failing mid-transaction.
 */
export function createSqliteTransactor(db: Database.Database): Transactor {
  const applyAll = db.transaction((writes: ReadonlyArray<SqliteWrite<unknown>>) => {
    let result: unknown;
    for (const write of writes) result = write.apply();
    return result;
  });
  const transact = <T>(writes: ReadonlyArray<Write<unknown>>): T => applyAll.immediate(writes as Array<SqliteWrite<unknown>>) as T;

  return {
    begin: () => createUnit(transact),
    apply: async (write) => transact([write]),
  };
}

type Transact = <T>(writes: ReadonlyArray<Write<unknown>>) => T;

function createUnit(transact: Transact): UnitOfWork {
  let queue: Array<Write<unknown>> = [];
  let chain: Promise<unknown> = Promise.resolve();
  // Runs that failed with no caller looking: the page did not await them, so the commit fails.
  const unobserved = new Set<{ error: unknown; seen: boolean }>();

  /** Applies the queue, then `last` if given; on failure the queue is as it was. */
  function applyQueue<T>(last?: Write<T>): T {
    const writes = last ? [...queue, last] : queue;
    const kept = queue;
    queue = [];
    try {
      return transact<T>(writes);
    } catch (error) {
      queue = [...kept, ...queue];
      throw error;
    }
  }

  return {
    defer(write) { queue.push(write); },

    run<T>(write: Write<T>) {
      const settled = chain.then(() => applyQueue(write));
      const failure = { error: undefined as unknown, seen: false };
      chain = settled.then(() => {}, (error: unknown) => {
        if (!failure.seen) {
          failure.error = error;
          unobserved.add(failure);
        }
      });
      return observed(settled, () => {
        failure.seen = true;
        unobserved.delete(failure);
      });
    },

    async commit() {
      await chain;
      const [first] = unobserved;
      if (first) throw first.error;
      if (queue.length > 0) applyQueue();
    },

    discard() { queue = []; },
  };
}

/**
 * `promise`, noting when the page looks at its outcome (`await`, `.then`, `.catch`): a failure
 * the page handled is the page's business; one it never looked at must fail the render.
 */
function observed<T>(promise: Promise<T>, onObserved: () => void): Promise<T> {
  const watched = Object.create(promise) as Promise<T>;
  watched.then = ((onFulfilled, onRejected) => {
    onObserved();
    return promise.then(onFulfilled, onRejected);
  }) as Promise<T>['then'];
  watched.catch = ((onRejected) => watched.then(undefined, onRejected)) as Promise<T>['catch'];
  watched.finally = ((onFinally) => watched.then(
    (value) => { onFinally?.(); return value; },
    (error: unknown) => { onFinally?.(); throw error; },
  )) as Promise<T>['finally'];
  return watched;
}
