import type pg from 'pg';
import { createUnitOfWork, type Transact, type Transactor, type Write } from '../unit-of-work.ts';

/** Where a write's statements go: the client holding its transaction, or the pool for a lone statement. */
export type Queryable = pg.ClientBase | pg.Pool;

/** A PostgreSQL write: statements on the one client that holds the transaction. */
interface PostgresWrite<T> extends Write<T> {
  apply(db: Queryable): Promise<T>;
  /** Changes the database in one statement at most, so it is atomic without a transaction around it. */
  readonly standalone?: true;
  /** This write with `next`'s change in its one statement too, when it can take it. */
  carry?(next: Write<unknown>): Write<T> | undefined;
}

/** Wraps the statements of one write; the Postgres stores build every write with this. */
export function postgresWrite<T>(apply: (client: pg.ClientBase) => Promise<T>): Write<T> {
  return { apply } as PostgresWrite<T>;
}

/**
 * A write whose change is one statement (any statements besides it only read, after it): alone
 * in a unit of work, it runs on its own, with no BEGIN and COMMIT around it. That is two round
 * trips and two statements fewer for the commonest page write, a new guest. `carry` lets it take
 * the write queued after it into that statement (the new guest's session).
 */
export function postgresStatement<T>(apply: (db: Queryable) => Promise<T>,
  options: { carry?(next: Write<unknown>): Write<T> | undefined } = {}): Write<T> {
  return { apply, standalone: true, carry: options.carry } as PostgresWrite<T>;
}

/**
 * The one standalone statement that does all of `writes`, if there is one: a lone standalone
 * write, or one that carries the write after it (a new guest and the session it signs in to).
 */
function asOneStatement(writes: ReadonlyArray<Write<unknown>>): PostgresWrite<unknown> | undefined {
  const [first, next, ...rest] = writes as ReadonlyArray<PostgresWrite<unknown>>;
  if (!first?.standalone || rest.length > 0) return undefined;
  const one = next === undefined ? first : first.carry?.(next) as PostgresWrite<unknown> | undefined;
  return one?.standalone ? one : undefined;
}

/**
 * Units of work on a `pg` pool. Each transaction takes one pooled client, runs BEGIN, every
 * write's statements in order, COMMIT, and gives the client back. A write does nothing but its
 * own statements (accounts hash passwords before they queue anything), so no transaction is
 * ever open across a bcrypt hash, a template or another request's work.
 */
export function createPostgresTransactor(pool: pg.Pool): Transactor {
  const transact: Transact = async (writes) => {
    const one = asOneStatement(writes);
    // Its result is the first write's; a carried write yields nothing.
    if (one) return [await one.apply(pool), ...writes.slice(1).map(() => undefined)];
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
    begin: () => createUnitOfWork(transact),
    apply: async <T>(write: Write<T>) => (await transact([write]))[0] as T,
  };
}
