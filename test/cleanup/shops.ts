/**
 * The shop cleanup works on, behind one asynchronous shape for each backend, so that the rules
 * of test/cleanup/stale-guests.test.ts are specified once and hold on both. SQLite: a data dir
 * written by harness.ts's `openShop`. PostgreSQL: a fresh database on the test file's throwaway
 * server, written by the app's own Postgres stores.
 */
import fs from 'node:fs';
import { afterAll, afterEach, beforeEach } from 'vitest';
import { newRecordId } from '../../src/auth/record-ids.ts';
import { createGuests } from '../../src/auth/guests.ts';
import type { StaleGuestStore } from '../../src/cleanup/stale-guest-store.ts';
import type { CleanupWatch } from '../../src/cleanup/stale-guests.ts';
import { openPostgresStaleGuestStore } from '../../src/db/postgres/cleanup/stale-guest-store.ts';
import { openPostgresStorage } from '../../src/db/postgres/storage.ts';
import { openSqliteStaleGuestStore } from '../../src/db/sqlite/cleanup/stale-guest-store.ts';
import { sessionRow } from '../../src/db/sqlite/session-store.ts';
import { startPostgres, type PostgresServer } from '../db/postgres/server.ts';
import { numberedPlaceholders } from '../support.ts';
import { cleanWith, COLLECTIONS, count, DAY, exists, isGuest, openShop, sessionsOf, tempDataDir, type CleanupRunOptions } from './harness.ts';

type Collection = (typeof COLLECTIONS)[number];

export interface CleanupShop {
  /** A guest created `daysAgo` days ago; with `activeDaysAgo` it came back later (not bounced). */
  guest(daysAgo: number, options?: { collection?: Collection; activeDaysAgo?: number }): Promise<string>;
  registered(daysAgo: number, collection?: Collection): Promise<string>;
  cart(id: string): Promise<void>;
  note(id: string): Promise<void>;
  /** Places the account's cart as an order; returns the order id. */
  order(id: string): Promise<string>;
  /** A session signed in to `accountId`; null: a visitor who never signed in. Returns its id. */
  session(accountId: string | null, collection?: Collection): Promise<string>;
  touch(collection: Collection, id: string, time: number): Promise<void>;
  /** Signs the guest up in place, as registering does. */
  convert(collection: Collection, id: string, email: string): Promise<void>;
  find(collection: Collection, id: string): Promise<{ isAnonymous: boolean } | null>;
  isGuest(id: string, collection?: Collection): Promise<boolean>;
  exists(table: string, column: string, value: string): Promise<boolean>;
  sessionsOf(accountId: string): Promise<number>;
  sessionExists(sid: string): Promise<boolean>;
  /** Rows of `sql`, written with `?` placeholders in both dialects. */
  rows<T>(sql: string, ...params: unknown[]): Promise<T[]>;
  count(sql: string, ...params: unknown[]): Promise<number>;
  /** The `guest_deleted` events, by record id. */
  deletions(): Promise<Array<{ id: string; collection: string; detail: unknown }>>;
  /** A cleanup store of its own, as the CLI opens one. */
  openStore(): Promise<StaleGuestStore>;
  /** What the CLI needs in its environment to clean this shop. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export type OpenShop = () => Promise<CleanupShop>;

async function openSqliteShop(): Promise<CleanupShop> {
  const dataDir = tempDataDir();
  const shop = openShop(dataDir);
  return {
    guest: async (daysAgo, options) => shop.guest(daysAgo, options),
    registered: async (daysAgo, collection) => shop.registered(daysAgo, collection),
    cart: async (id) => void shop.cart(id),
    note: async (id) => void shop.note(id),
    order: async (id) => shop.order(id),
    session: async (accountId, collection) => shop.session(accountId, collection),
    touch: async (collection, id, time) => void shop.users.touch(collection, id, time),
    convert: async (collection, id, email) => void shop.users.convert(collection, id, email),
    find: async (collection, id) => shop.users.find(collection, id),
    isGuest: async (id, collection) => isGuest(shop, id, collection),
    exists: async (table, column, value) => exists(shop.db, table, column, value),
    sessionsOf: async (accountId) => sessionsOf(shop, accountId),
    sessionExists: async (sid) => exists(shop.sessionDb, 'sessions', 'sid', sid),
    rows: async <T>(sql: string, ...params: unknown[]) => shop.db.prepare(sql).all(...params) as T[],
    count: async (sql, ...params) => count(shop.db, sql, ...params),
    deletions: async () => (shop.db.prepare(`SELECT record_id AS id, collection, detail FROM auth_events
      WHERE type = 'guest_deleted' ORDER BY record_id`).all() as Array<{ id: string; collection: string; detail: string }>)
      .map((event) => ({ ...event, detail: JSON.parse(event.detail) })),
    openStore: async () => openSqliteStaleGuestStore({ dataDir, collections: COLLECTIONS }),
    env: { DATA_DIR: dataDir },
    async close() {
      shop.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}


async function openPostgresShop(databaseUrl: string): Promise<CleanupShop> {
  const clock = { now: Date.now() };
  const storage = await openPostgresStorage({ databaseUrl, poolSize: 4, collections: COLLECTIONS }, () => clock.now);
  const { pool, records, transactor, shop } = storage;
  const guests = createGuests({ accounts: records, now: () => clock.now, secret: 'cleanup-harness-secret' });
  const rows = async <T>(sql: string, ...params: unknown[]) => (await pool.query(numberedPlaceholders(sql), params)).rows as T[];
  const count = async (sql: string, ...params: unknown[]) =>
    (await rows<{ count: number }>(`SELECT count(*)::int AS count FROM (${sql}) AS q`, ...params))[0]!.count;
  const find = async (collection: string, id: string) => records.find(collection, id);
  const touch = (collection: string, id: string, time: number) => transactor.apply(records.touch(collection, id, time));
  return {
    async guest(daysAgo, options = {}) {
      const collection = options.collection ?? 'users';
      clock.now = Date.now() - daysAgo * DAY;
      const work = transactor.begin();
      const { id } = guests.create(work, collection).record;
      await work.commit();
      clock.now = Date.now();
      if (options.activeDaysAgo !== undefined) await touch(collection, id, Date.now() - options.activeDaysAgo * DAY);
      return id;
    },
    async registered(daysAgo, collection = 'users') {
      const id = newRecordId();
      const email = `${id.toLowerCase()}@example.com`;
      await transactor.apply(records.insert(collection, {
        id, email, username: email, name: null, passwordHash: 'not-a-guest', isAnonymous: false, now: Date.now() - daysAgo * DAY, metadata: {},
      }));
      return id;
    },
    cart: (id) => transactor.apply(shop.carts.add(id, 'ember-mug', 2, Date.now())),
    note: (id) => transactor.apply(shop.notes.add(id, 'remember the milk', Date.now())),
    async order(id) {
      await transactor.apply(shop.carts.add(id, 'candle', 1, Date.now()));
      const orderId = newRecordId();
      await transactor.apply(shop.orders.placeFromCart(id, orderId,
        { name: 'Ada Guest', address: '1 Loop Lane', city: 'Leeds', postcode: 'LS1 1AA' }, Date.now()));
      return orderId;
    },
    async session(accountId, collection = 'users') {
      const sid = newRecordId();
      const row = sessionRow(accountId ? { id: accountId, collection } : null, { ttlMs: 7 * DAY, now: Date.now() });
      await pool.query('INSERT INTO sessions (sid, sess, expires_at, account_id) VALUES ($1, $2, $3, $4)', [sid, row.sess, row.expired, accountId]);
      return sid;
    },
    touch,
    convert: (collection, id, email) =>
      transactor.apply(records.promote(collection, id, { email, name: null, passwordHash: 'bcrypt-hash', now: Date.now() })),
    find,
    isGuest: async (id, collection = 'users') => (await find(collection, id))?.isAnonymous === true,
    exists: async (table, column, value) => (await count(`SELECT 1 FROM ${table} WHERE ${column} = ?`, value)) > 0,
    sessionsOf: (accountId) => count('SELECT 1 FROM sessions WHERE account_id = ?', accountId),
    sessionExists: async (sid) => (await count('SELECT 1 FROM sessions WHERE sid = ?', sid)) > 0,
    rows,
    count,
    deletions: () => rows(`SELECT record_id AS id, collection, detail FROM auth_events WHERE type = 'guest_deleted' ORDER BY record_id`),
    openStore: () => openPostgresStaleGuestStore({ databaseUrl, databasePoolSize: 2, collections: COLLECTIONS }),
    env: { DATABASE_URL: databaseUrl },
    close: () => storage.close(),
  };
}

/** Each test a fresh database on a server this test file starts on first use (and stops after). */
export function postgresShops(): OpenShop {
  let server: Promise<PostgresServer> | undefined;
  afterAll(async () => {
    if (server) await (await server).stop();
  });
  return async () => {
    server ??= startPostgres();
    return openPostgresShop(await (await server).createDatabase());
  };
}

/** `describe.each(cleanupBackends())`: each test runs on SQLite and on PostgreSQL. */
export function cleanupBackends(): Array<[string, OpenShop]> {
  return [['SQLite', openSqliteShop], ['PostgreSQL', postgresShops()]];
}

/** Each test gets a fresh shop: `const t = useCleanupShop(open)`, then `t.shop`. */
export function useCleanupShop(open: OpenShop): { shop: CleanupShop } {
  const current = {} as { shop: CleanupShop };
  beforeEach(async () => {
    current.shop = await open();
  });
  afterEach(async () => {
    await current.shop?.close();
  });
  return current;
}

/** Runs cleanup the way the CLI does (a store of its own) with these options. */
export async function cleanShop(shop: CleanupShop, options: CleanupRunOptions, watch?: CleanupWatch) {
  return cleanWith(await shop.openStore(), options, watch);
}
