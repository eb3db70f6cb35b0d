/**
 * The pool's edge (src/db/postgres/pool.ts): a connection lost, whether idle in the pool or lent
 * out to a transaction, surfaces as StorageUnavailableError on the next query and never as an
 * unheard 'error' event, which would end the process; once the server is back, the same pool
 * serves again.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPool } from '../../../src/db/postgres/pool.ts';
import { StorageUnavailableError } from '../../../src/errors.ts';
import { startPostgres, type PostgresServer } from './server.ts';

let server: PostgresServer;
let pool: pg.Pool;
beforeAll(async () => {
  server = await startPostgres();
  pool = openPool({ databaseUrl: await server.createDatabase(), poolSize: 2 });
});
afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

/** Resolves once `client`'s socket has closed: by then pg has handled the server's goodbye. */
function closed(client: pg.PoolClient): Promise<void> {
  return new Promise((resolve) => (client as unknown as { connection: NodeJS.EventEmitter }).connection.once('end', resolve));
}

describe('a lost connection', () => {
  it('fails the next query of a transaction\'s client with StorageUnavailableError, and the process carries on', async () => {
    const client = await pool.connect();
    const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const socketClosed = closed(client);
    // Between two statements of a transaction, the server ends this connection (an admin, a failover).
    await pool.query('SELECT pg_terminate_backend($1)', [pid]);
    await socketClosed;
    await expect(client.query('SELECT 1')).rejects.toBeInstanceOf(StorageUnavailableError);
    client.release(true);
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('answers StorageUnavailableError while the server is down, and the same pool serves again once it is back', async () => {
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await server.pause();
    try {
      await expect(pool.query('SELECT 1')).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(pool.connect()).rejects.toBeInstanceOf(StorageUnavailableError);
    } finally {
      await server.resume();
    }
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });
});
