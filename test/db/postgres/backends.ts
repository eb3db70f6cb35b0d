/**
 * The two backends the contract tests run against, behind one shape: the stores and the
 * transactor as the app gets them, plus what a test needs to look at rows the ports never read.
 * SQLite: a temp file. PostgreSQL: a database on this file's throwaway server (started on first
 * use, so the SQLite half still runs, and the Postgres half fails saying what to install).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll } from 'vitest';
import type { AccountStore, AccountTokenStore, EventLog, IdentityStore, PendingConversionStore } from '../../../src/auth/stores.ts';
import { migrate } from '../../../src/db/sqlite/migrate.ts';
import { openDb } from '../../../src/db/sqlite/open.ts';
import { openPostgresStorage } from '../../../src/db/postgres/storage.ts';
import { postgresWrite } from '../../../src/db/postgres/unit-of-work.ts';
import { createSqliteAccountStore } from '../../../src/db/sqlite/account-store.ts';
import { createSqliteEventLog } from '../../../src/db/sqlite/event-log.ts';
import { createSqliteIdentityStore } from '../../../src/db/sqlite/identity-store.ts';
import { createSqliteOutboxStore } from '../../../src/db/sqlite/outbox-store.ts';
import { createSqliteCartStore, createSqliteNoteStore, createSqliteOrderStore, createSqliteProductStore } from '../../../src/db/sqlite/shop-stores.ts';
import { createSqliteAccountTokenStore, createSqlitePendingConversionStore } from '../../../src/db/sqlite/token-stores.ts';
import { createSqliteTransactor, sqliteWrite } from '../../../src/db/sqlite/unit-of-work.ts';
import type { Transactor, Write } from '../../../src/db/unit-of-work.ts';
import type { OutboxStore } from '../../../src/mail/outbox.ts';
import type { ShopStores } from '../../../src/shop/index.ts';
import { catalogue } from '../../../src/shop/products.ts';
import { tempDataDir } from '../../support.ts';
import { startPostgres, type PostgresServer } from './server.ts';

export const COLLECTIONS = ['users', 'customers'];

export interface StoredEvent { type: string; record_id: string | null; collection: string | null; created_at: number; detail: unknown }

export interface Backend {
  records: AccountStore;
  events: EventLog;
  identities: IdentityStore;
  tokens: AccountTokenStore;
  pendingConversions: PendingConversionStore;
  shop: ShopStores;
  outbox: OutboxStore;
  transactor: Transactor;
  /**
   * A write that keeps its transaction open, after the writes before it, until `release()` or
   * `ms` have passed; `reached` resolves once it is there. A second transaction started then
   * really overlaps the first. SQLite never runs two at once (BEGIN to COMMIT is synchronous),
   * so there it holds nothing: the first transaction has committed when `reached` resolves.
   */
  pause(ms: number): Pause;
  eventsOf(recordId: string): Promise<StoredEvent[]>;
  /** The outbox row of a mail, as stored (the port never reads one back). */
  outboxRow(id: string): Promise<OutboxRow | undefined>;
  outboxBody(id: string): Promise<{ text: string; html: string } | undefined>;
  /** Transactions left open: must be 0 whenever no unit of work is applying. */
  openTransactions(): Promise<number>;
  close(): Promise<void>;
}

export interface OutboxRow {
  status: string; attempts: number; next_attempt_at: number; locked_until: number | null; last_error: string | null;
  sent_at: number | null; message_id: string;
}

export interface Pause { write: Write; reached: Promise<void>; release(): void }

export type OpenBackend = (now?: () => number) => Promise<Backend>;

const OUTBOX_COLUMNS = 'status, attempts, next_attempt_at, locked_until, last_error, sent_at, message_id';

async function openSqlite(now: () => number = Date.now): Promise<Backend> {
  const dir = tempDataDir();
  const db = openDb(path.join(dir, 'app.db'));
  migrate(db, COLLECTIONS);
  const transactor = createSqliteTransactor(db);
  const products = createSqliteProductStore(db);
  const carts = createSqliteCartStore(db);
  await transactor.apply(products.seed(catalogue));
  return {
    records: createSqliteAccountStore(db, COLLECTIONS),
    events: createSqliteEventLog(db, now),
    identities: createSqliteIdentityStore(db),
    tokens: createSqliteAccountTokenStore(db),
    pendingConversions: createSqlitePendingConversionStore(db),
    shop: { products, carts, orders: createSqliteOrderStore(db, carts), notes: createSqliteNoteStore(db) },
    outbox: createSqliteOutboxStore(db),
    transactor,
    pause() {
      let reach!: () => void;
      const reached = new Promise<void>((resolve) => { reach = resolve; });
      return { write: sqliteWrite(() => reach()), reached, release: () => {} };
    },
    eventsOf: async (recordId) => (db.prepare('SELECT * FROM auth_events WHERE record_id = ? ORDER BY id').all(recordId) as StoredEvent[])
      .map((event) => ({ ...event, detail: typeof event.detail === 'string' ? JSON.parse(event.detail) : event.detail })),
    outboxRow: async (id) => db.prepare(`SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE id = ?`).get(id) as OutboxRow | undefined,
    outboxBody: async (id) => db.prepare('SELECT text, html FROM outbox WHERE id = ?').get(id) as { text: string; html: string } | undefined,
    openTransactions: async () => (db.inTransaction ? 1 : 0),
    async close() {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The Postgres backend on a server shared by the test file. */
function postgresOpener(): OpenBackend {
  let server: Promise<PostgresServer> | undefined;
  afterAll(async () => {
    if (server) await (await server).stop();
  });
  return async (now = Date.now) => {
    server ??= startPostgres();
    const databaseUrl = await (await server).createDatabase();
    const storage = await openPostgresStorage({ databaseUrl, poolSize: 4, collections: COLLECTIONS }, now);
    const { pool } = storage;
    return {
      ...storage,
      pause(ms) {
        let reach!: () => void;
        let release!: () => void;
        const reached = new Promise<void>((resolve) => { reach = resolve; });
        const released = new Promise<void>((resolve) => { release = resolve; setTimeout(resolve, ms).unref(); });
        return { write: postgresWrite(async () => { reach(); await released; }), reached, release };
      },
      eventsOf: async (recordId) => (await pool.query<StoredEvent>('SELECT * FROM auth_events WHERE record_id = $1 ORDER BY id', [recordId])).rows,
      outboxRow: async (id) => (await pool.query<OutboxRow>(`SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE id = $1`, [id])).rows[0],
      outboxBody: async (id) => (await pool.query<{ text: string; html: string }>('SELECT text, html FROM outbox WHERE id = $1', [id])).rows[0],
      openTransactions: async () => (await pool.query<{ count: number }>(
        `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`)).rows[0]!.count,
      close: () => storage.close(),
    };
  };
}

/** `describe.each(backends())`: each test runs on SQLite and on PostgreSQL. */
export function backends(): Array<[string, OpenBackend]> {
  return [['SQLite', openSqlite], ['PostgreSQL', postgresOpener()]];
}

let ids = 0;
/** An id (or email part) no other test of this file uses: the tests of a file share a database. */
export function uniqueId(prefix = 'rec'): string {
  return `${prefix}-${process.pid}-${++ids}-${Math.random().toString(36).slice(2, 8)}`;
}
