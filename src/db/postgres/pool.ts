import pg from 'pg';
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

/** A pool whose BIGINTs are numbers. */
export function openPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize, types });
  // An idle client whose connection drops (a server restart) is removed by the pool, which then
  // emits 'error'; unheard, that event would end the process. The next query connects anew.
  pool.on('error', () => {});
  return pool;
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
