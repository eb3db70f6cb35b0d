import type pg from 'pg';
import { StorageUnavailableError } from '../../errors.ts';
import { catalogue } from '../../shop/products.ts';
import type { Storage } from '../storage.ts';
import { createPostgresAccountStore } from './account-store.ts';
import { createPostgresEventLog } from './event-log.ts';
import { createPostgresIdentityStore } from './identity-store.ts';
import { migrate } from './migrate.ts';
import { createPostgresOutboxStore } from './outbox-store.ts';
import { openFailure, openPool, type PoolOptions } from './pool.ts';
import { postgresLimits } from './rate-limits.ts';
import { openPostgresSessionStorage } from './session-store.ts';
import { createPostgresCartStore, createPostgresNoteStore, createPostgresOrderStore, createPostgresProductStore } from './shop-stores.ts';
import { createPostgresAccountTokenStore, createPostgresPendingConversionStore } from './token-stores.ts';
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
    await reach(pool, config.databaseUrl);
    await migrate(pool, config.collections);
    const transactor = createPostgresTransactor(pool);
    const products = createPostgresProductStore(pool);
    await transactor.apply(products.seed(catalogue));
    return {
      pool,
      records: createPostgresAccountStore(pool, config.collections),
      events: createPostgresEventLog(now),
      identities: createPostgresIdentityStore(pool),
      tokens: createPostgresAccountTokenStore(pool),
      pendingConversions: createPostgresPendingConversionStore(pool),
      shop: { products, carts: createPostgresCartStore(pool), orders: createPostgresOrderStore(pool), notes: createPostgresNoteStore(pool) },
      limits: postgresLimits(pool),
      sessions: openPostgresSessionStorage(pool, config.collections),
      outbox: createPostgresOutboxStore(pool),
      transactor,
      close: () => pool.end(),
    };
  } catch (error) {
    await pool.end();
    throw error;
  }
}

/** The first connection, with an error that names DATABASE_URL and never shows its password. */
async function reach(pool: pg.Pool, databaseUrl: string): Promise<void> {
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    throw openFailure(databaseUrl, error instanceof StorageUnavailableError ? error.cause : error);
  }
}
