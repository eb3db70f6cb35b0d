import path from 'node:path';
import { catalogue } from '../../shop/products.ts';
import { inMemory } from '../../http/rate-limit.ts';
import { createLockWait } from './lock-wait.ts';
import { migrate } from './migrate.ts';
import { openDb, type Db } from './open.ts';
import type { Storage } from '../storage.ts';
import { createSqliteAccountStore } from './account-store.ts';
import { createSqliteEventLog } from './event-log.ts';
import { createSqliteIdentityStore } from './identity-store.ts';
import { createSqliteOutboxStore } from './outbox-store.ts';
import { openSqliteSessionStorage } from './session-store.ts';
import { createSqliteCartStore, createSqliteNoteStore, createSqliteOrderStore, createSqliteProductStore } from './shop-stores.ts';
import { createSqliteAccountTokenStore, createSqlitePendingConversionStore } from './token-stores.ts';
import { createSqliteTransactor } from './unit-of-work.ts';

/** The embedded default: `DATA_DIR/app.db` (better-sqlite3) and `DATA_DIR/sessions.db` (connect-sqlite3). */
export interface SqliteStorage extends Storage {
  /** The app database itself, for tests and tools that look at rows. */
  db: Db;
}

/** Opens (and migrates) the SQLite files under `dataDir`, with the catalogue seeded. */
export async function openSqliteStorage(config: { dataDir: string; collections: readonly string[] }, now: () => number): Promise<SqliteStorage> {
  const db = openDb(path.join(config.dataDir, 'app.db'));
  migrate(db, config.collections);
  const whenUnlocked = createLockWait(db);
  const transactor = createSqliteTransactor(db, whenUnlocked);
  const products = createSqliteProductStore(db);
  const carts = createSqliteCartStore(db);
  await transactor.apply(products.seed(catalogue));
  const sessions = openSqliteSessionStorage(config.dataDir);
  return {
    db,
    records: createSqliteAccountStore(db, config.collections),
    events: createSqliteEventLog(db, now),
    identities: createSqliteIdentityStore(db),
    tokens: createSqliteAccountTokenStore(db),
    pendingConversions: createSqlitePendingConversionStore(db),
    shop: { products, carts, orders: createSqliteOrderStore(db, carts), notes: createSqliteNoteStore(db) },
    sessions,
    outbox: createSqliteOutboxStore(db, whenUnlocked),
    // One process serves a SQLite database: its limits can count in memory.
    limits: inMemory,
    transactor,
    async close() {
      await sessions.close();
      db.close();
    },
  };
}
