/**
 * PostgreSQL sets itself up like SQLite does (test/db/migrate.test.ts): numbered migrations
 * applied once, in one transaction, one table per auth collection, collection names checked
 * before they become SQL; and, since several app processes may start at once, one migration
 * run at a time.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../../src/db/postgres/migrate.ts';
import { openPool } from '../../../src/db/postgres/pool.ts';
import { openPostgresStorage } from '../../../src/db/postgres/storage.ts';
import { startPostgres, type PostgresServer } from './server.ts';

let server: PostgresServer;
beforeAll(async () => { server = await startPostgres(); });
afterAll(() => server?.stop());

const pools: pg.Pool[] = [];
afterEach(async () => { await Promise.all(pools.splice(0).map((pool) => pool.end())); });

async function freshPool(databaseUrl?: string): Promise<pg.Pool> {
  const pool = openPool({ databaseUrl: databaseUrl ?? await server.createDatabase(), poolSize: 2 });
  pools.push(pool);
  return pool;
}

async function tables(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`);
  return rows.map((row) => row.name);
}

async function insertAccount(pool: pg.Pool, table: string, id: string, email: string): Promise<void> {
  await pool.query('INSERT INTO accounts (id, collection) VALUES ($1, $2)', [id, table]);
  await pool.query(`INSERT INTO "${table}" (id, email, username, password_hash, created_at, last_active_at)
    VALUES ($1, $2, $3, 'hash', 1, 1)`, [id, email, email.split('@')[0]]);
}

describe('migrate() on PostgreSQL', () => {
  it('creates the accounts table, one table per collection and the shop tables on a new database', async () => {
    const pool = await freshPool();
    expect(await migrate(pool, ['users', 'customers'])).toEqual(['001-accounts', '002-shop', '003-sessions', '004-rate-limits', '005-mail', '006-tokens', '007-identities',
      'users:collection-001-auth', 'customers:collection-001-auth', 'users:collection-002-email-verified', 'customers:collection-002-email-verified']);
    expect(await tables(pool)).toEqual(['account_tokens', 'accounts', 'auth_events', 'cart_items', 'customers', 'identities', 'notes', 'order_lines', 'orders',
      'outbox', 'pending_conversions', 'products', 'rate_limits', 'schema_migrations', 'sessions', 'users']);
  });

  it('applies nothing the second time, and keeps the data', async () => {
    const pool = await freshPool();
    await migrate(pool, ['users']);
    await insertAccount(pool, 'users', 'kept-user', 'kept@example.com');
    expect(await migrate(pool, ['users'])).toEqual([]);
    expect((await pool.query('SELECT email FROM users')).rows).toEqual([{ email: 'kept@example.com' }]);
  });

  it('runs the migrations once when several processes start at once: the others wait, then find them done', async () => {
    const databaseUrl = await server.createDatabase();
    const starting = await Promise.all([1, 2, 3, 4].map(() => freshPool(databaseUrl)));
    const applied = await Promise.all(starting.map((pool) => migrate(pool, ['users', 'customers'])));
    expect(applied.flat().sort()).toEqual(['001-accounts', '002-shop', '003-sessions', '004-rate-limits', '005-mail', '006-tokens', '007-identities',
      'customers:collection-001-auth', 'customers:collection-002-email-verified', 'users:collection-001-auth', 'users:collection-002-email-verified']);
    expect(applied.filter((ids) => ids.length > 0)).toHaveLength(1);
  });

  it('opens the same storage from several processes at once (migrations and catalogue seed)', async () => {
    const databaseUrl = await server.createDatabase();
    const opened = await Promise.all([1, 2, 3].map(() => openPostgresStorage({ databaseUrl, poolSize: 2, collections: ['users'] }, Date.now)));
    try {
      expect((await opened[2]!.shop.products.list()).length).toBeGreaterThan(0);
    } finally {
      await Promise.all(opened.map((storage) => storage.close()));
    }
  });

  it('creates the table of a collection added later, and only that', async () => {
    const pool = await freshPool();
    await migrate(pool, ['users']);
    await insertAccount(pool, 'users', 'still-user', 'still@example.com');
    expect(await migrate(pool, ['users', 'members'])).toEqual(['members:collection-001-auth', 'members:collection-002-email-verified']);
    expect(await tables(pool)).toContain('members');
    expect((await pool.query('SELECT count(*) FROM users')).rows[0]).toEqual({ count: 1 });
  });

  it('leaves the database as it was when a migration fails', async () => {
    const pool = await freshPool();
    await pool.query('CREATE TABLE members (id TEXT)');
    await expect(migrate(pool, ['users', 'members'])).rejects.toThrow(/already exists/);
    expect(await tables(pool)).toEqual(['members']);
  });

  it('makes emails unique across case in each collection', async () => {
    const pool = await freshPool();
    await migrate(pool, ['users']);
    await insertAccount(pool, 'users', 'first-user', 'Ada@Example.com');
    await expect(insertAccount(pool, 'users', 'second-user', 'ada@example.com')).rejects.toThrow(/duplicate key/);
  });

  it('quotes collection names, so one that is an SQL keyword is still just a table', async () => {
    const databaseUrl = await server.createDatabase();
    const storage = await openPostgresStorage({ databaseUrl, poolSize: 2, collections: ['user', 'order'] }, Date.now);
    try {
      await storage.transactor.apply(storage.records.insert('order', {
        id: 'keyword-1', email: 'k@example.com', username: 'k@example.com', name: null, passwordHash: 'h', isAnonymous: false, now: 1, metadata: {},
      }));
      expect((await storage.records.findRegisteredByEmail('k@example.com'))?.collection).toBe('order');
    } finally {
      await storage.close();
    }
  });

  it('refuses a collection name that is not a plain identifier, before any SQL runs', async () => {
    const pool = await freshPool();
    await migrate(pool, ['users']);
    // Unchecked, this name would end the quoted identifier and drop a table.
    const attack = 'evil" (id TEXT); DROP TABLE notes; --';
    await expect(migrate(pool, ['users', attack])).rejects.toThrow(/collection/i);
    expect(await tables(pool)).toContain('notes');
    for (const name of ['Users', 'user-s', '1users', 'users"', '', 'accounts']) {
      await expect(migrate(pool, [name]), name).rejects.toThrow(/collection/i);
    }
  });
});
