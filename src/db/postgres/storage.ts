import type pg from 'pg';
import { catalogue } from '../../shop/products.ts';
import type { Storage } from '../storage.ts';
import { createPostgresAccountStore } from './account-store.ts';
import { createPostgresEventLog } from './event-log.ts';
import { migrate } from './migrate.ts';
import { openPool, type PoolOptions } from './pool.ts';
import { openPostgresSessionStorage } from './session-store.ts';
import { createPostgresCartStore, createPostgresNoteStore, createPostgresOrderStore, createPostgresProductStore } from './shop-stores.ts';
import { createPostgresTransactor } from './unit-of-work.ts';

/** Everything on PostgreSQL, sessions included, in one database. */
export interface PostgresStorage extends Storage {
  /** The pool itself, for tests and tools that look at rows. */
  pool: pg.Pool;
}

/** Connects, migrates (safe when several processes start at once) and seeds the catalogue. */
export async function openPostgresStorage(
  config: PoolOptions & { collections: readonly string[] }, now: () => number,
): Promise<PostgresStorage> {
  const pool = openPool(config);
  try {
    await migrate(pool, config.collections);
    const transactor = createPostgresTransactor(pool);
    const products = createPostgresProductStore(pool);
    await transactor.apply(products.seed(catalogue));
    return {
      pool,
      records: createPostgresAccountStore(pool, config.collections),
      events: createPostgresEventLog(now),
      shop: { products, carts: createPostgresCartStore(pool), orders: createPostgresOrderStore(pool), notes: createPostgresNoteStore(pool) },
      sessions: openPostgresSessionStorage(pool),
      transactor,
      close: () => pool.end(),
    };
  } catch (error) {
    await pool.end();
    throw error;
  }
}
