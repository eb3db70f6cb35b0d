import type pg from 'pg';
import type { Transactor, UnitOfWork, Write } from '../unit-of-work.ts';

/** A PostgreSQL write: statements on the one client that holds the transaction. */
interface PostgresWrite<T> extends Write<T> { apply(client: pg.ClientBase): Promise<T> }

/** Wraps the statements of one write; the Postgres stores build every write with this. */
export function postgresWrite<T>(apply: (client: pg.ClientBase) => Promise<T>): Write<T> {
  return { apply } as PostgresWrite<T>;
}

type Transact = (writes: ReadonlyArray<Write<unknown>>) => Promise<unknown[]>;

/**
 * Units of work on a `pg` pool. Each transaction takes one pooled client, runs BEGIN, every
 * write's statements in order, COMMIT, and gives the client back. A write does nothing but its
 * own statements (accounts hash passwords before they queue anything), so no transaction is
 * ever open across a bcrypt hash, a template or another request's work.
 */
export function createPostgresTransactor(pool: pg.Pool): Transactor {
  const transact: Transact = async (writes) => {
    if (writes.length === 0) return [];
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const results: unknown[] = [];
      for (const write of writes) results.push(await (write as PostgresWrite<unknown>).apply(client));
      await client.query('COMMIT');
      return results;
    } catch (error) {
      // A client whose ROLLBACK fails (its connection is gone) must not go back to the pool.
      await client.query('ROLLBACK').catch((rollbackError: Error) => { broken = rollbackError; });
      throw error;
    } finally {
      client.release(broken);
    }
  };
  return {
    begin: () => createUnit(transact),
    apply: async <T>(write: Write<T>) => (await transact([write]))[0] as T,
  };
}

/** The same queue, ordering and failure rules as the SQLite unit (src/db/sqlite/unit-of-work.ts). */
function createUnit(transact: Transact): UnitOfWork {
  let queue: Array<Write<unknown>> = [];
  let effects: Array<() => void> = [];
  // Transactions of one unit run one after another, in the order they were asked for: a commit
  // too, so a run asked for while the commit is in flight cannot overtake it.
  let chain: Promise<unknown> = Promise.resolve();
  const serialise = <T>(task: () => Promise<T>): Promise<T> => {
    const settled = chain.then(task);
    chain = settled.catch(() => {}); // the caller sees the failure; the next task still goes
    return settled;
  };

  /** Applies the queue and then `writes` in one transaction; resolves to `writes`' results. */
  async function applyQueue(writes: ReadonlyArray<Write<unknown>>): Promise<unknown[]> {
    const queued = queue;
    const waiting = effects;
    queue = [];
    effects = [];
    let results: unknown[];
    try {
      results = (await transact([...queued, ...writes])).slice(queued.length);
    } catch (error) {
      // Not applied: they wait for the next commit, ahead of anything deferred meanwhile.
      queue = [...queued, ...queue];
      effects = [...waiting, ...effects];
      throw error;
    }
    for (const effect of waiting) effect();
    return results;
  }

  return {
    defer(write) { queue.push(write); },
    afterCommit(effect) { effects.push(effect); },
    run: <T>(write: Write<T>, ...alongside: ReadonlyArray<Write<unknown>>) =>
      serialise(async () => (await applyQueue([write, ...alongside]))[0] as T),
    commit: () => serialise(async () => {
      if (queue.length > 0 || effects.length > 0) await applyQueue([]);
    }),
    discard() {
      queue = [];
      effects = [];
    },
  };
}
