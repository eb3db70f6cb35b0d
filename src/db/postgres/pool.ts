import pg from 'pg';
import { StorageUnavailableError } from '../../errors.ts';
import { redactedUrl } from '../../config.ts';

export interface PoolOptions {
  /** `postgres://user:password@host:port/database`. */
  databaseUrl: string;
  /** Connections at most. */
  poolSize: number;
}

const INT8 = 20;

// Timestamps (Unix ms) and identity ids are BIGINT, which pg returns as strings so as to lose no
// precision; ours stay far below 2^53, so they read back as the numbers SQLite gives.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8 && format !== 'binary'
    ? (value: string) => Number(value)
    : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser,
};

/** How long a request waits for a connection (the pool is full, or the server does not answer). */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * A pool whose BIGINTs are numbers, and whose lost connections surface as
 * StorageUnavailableError (a 503) rather than as whichever socket error came first.
 */
export function openPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.databaseUrl, max: options.poolSize, types, connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // An idle client whose connection drops (a server restart) is removed by the pool, which then
  // emits 'error'; unheard, that event would end the process. The next query connects anew, so
  // the app recovers by itself once the server is back.
  pool.on('error', () => {});
  // A client lent out (a transaction, between two of its statements) whose connection drops
  // emits 'error' on itself, where nobody listens: that too would end the process (it did, when
  // the server was stopped under load). Its next query fails instead, as StorageUnavailableError,
  // and the transaction gives it back broken, so the pool discards it.
  pool.on('connect', (client) => client.on('error', () => {}));
  translateLosses(pool);
  return pool;
}

/** SQLSTATE classes and codes that mean the server or the connection is gone, not the query wrong. */
function isConnectionLoss(error: unknown): boolean {
  if (error instanceof pg.DatabaseError) {
    const code = error.code ?? '';
    // 08: connection exception; 57P01–57P03: shutting down, crashed, starting up; 53300: too many connections.
    return code.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(code);
  }
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  if (code && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true;
  // pg's own words for a socket that ended, or a pool that could not connect in time.
  return typeof message === 'string'
    && /Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect|Client was closed/i.test(message);
}

function translated(error: unknown): unknown {
  return isConnectionLoss(error) ? new StorageUnavailableError(error) : error;
}

type Query = (...args: unknown[]) => unknown;
const guarded = new WeakSet<object>();

/** Wraps the promise forms of `query` (the only ones we use); callback forms pass through untouched. */
function guardQuery(target: { query: Query }): void {
  const query = target.query.bind(target);
  target.query = (...args: unknown[]) => {
    const result = query(...args);
    return result instanceof Promise ? result.catch((error: unknown) => { throw translated(error); }) : result;
  };
}

function translateLosses(pool: pg.Pool): void {
  guardQuery(pool as unknown as { query: Query });
  const connect = pool.connect.bind(pool) as (callback?: unknown) => Promise<pg.PoolClient> | void;
  (pool as unknown as { connect: unknown }).connect = (callback?: unknown) => {
    // pg's Pool.query uses the callback form internally: leave it as it is.
    if (callback) return connect(callback);
    return (connect() as Promise<pg.PoolClient>).then((client) => {
      if (!guarded.has(client)) {
        guarded.add(client);
        guardQuery(client as unknown as { query: Query });
      }
      return client;
    }, (error: unknown) => { throw translated(error); });
  };
}

/**
 * A failure to open the database of `databaseUrl`, saying which: DATABASE_URL with its password
 * hidden, then pg's reason (pg's messages never hold the password). Node's connect fails with an
 * AggregateError, whose own message is empty, when it tried several addresses (localhost).
 */
export function openFailure(databaseUrl: string, error: unknown): Error {
  const reason = error instanceof AggregateError
    ? error.errors.map((each: Error) => each.message).join('; ')
    : (error as Error).message;
  return new Error(`cannot open the database of DATABASE_URL (${redactedUrl(databaseUrl)}): ${reason || String(error)}`, { cause: error });
}
