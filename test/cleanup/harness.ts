/**
 * A data dir with real databases written by the app's own stores (guests, accounts, carts,
 * notes, orders) at chosen times, sessions in connect-sqlite3's format, and cleanup run on it.
 * Everything here uses better-sqlite3 in this process: the server, where a test needs one, runs
 * as a child process (server.ts), as it does next to `npm run cleanup` in production.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { newRecordId } from '../../src/auth/record-ids.ts';
import { createGuests } from '../../src/auth/guests.ts';
import type { Write } from '../../src/db/unit-of-work.ts';
import type { StaleGuestStore } from '../../src/cleanup/stale-guest-store.ts';
import { deleteStaleGuests, type CleanupOptions, type CleanupWatch } from '../../src/cleanup/stale-guests.ts';
import { migrate } from '../../src/db/sqlite/migrate.ts';
import { openDb, openSessionDb, type Db } from '../../src/db/sqlite/open.ts';
import { openSqliteStaleGuestStore } from '../../src/db/sqlite/cleanup/stale-guest-store.ts';
import { createSqliteAccountStore } from '../../src/db/sqlite/account-store.ts';
import { createSqliteEventLog } from '../../src/db/sqlite/event-log.ts';
import { createSqliteCartStore, createSqliteNoteStore, createSqliteOrderStore, createSqliteProductStore } from '../../src/db/sqlite/shop-stores.ts';
import { applySqliteWrite } from '../../src/db/sqlite/unit-of-work.ts';
import { catalogue } from '../../src/shop/products.ts';
import type { UnitOfWork } from '../../src/db/unit-of-work.ts';

export const DAY = 86_400_000;
export const COLLECTIONS = ['users', 'customers'] as const;
type Collection = (typeof COLLECTIONS)[number];

export function tempDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'guestkit-cleanup-'));
}

export type Shop = ReturnType<typeof openShop>;

/** The app's stores on `dataDir`, with a clock the test sets: records are written "at" `shop.at`. */
export function openShop(dataDir: string) {
  const db = openDb(path.join(dataDir, 'app.db'));
  migrate(db, COLLECTIONS);
  // The app's own SQLite stores, their writes applied at once (this harness writes outside any page).
  const apply = <T>(write: Write<T>): T => db.transaction(() => applySqliteWrite(write))();
  apply(createSqliteProductStore(db).seed(catalogue));
  const sessionDb = openSessionDb(path.join(dataDir, 'sessions.db'));
  const clock = { now: Date.now() };
  const now = () => clock.now;
  const records = createSqliteAccountStore(db, COLLECTIONS);
  const guests = createGuests({ accounts: records, now, secret: 'cleanup-harness-secret' });
  const carts = createSqliteCartStore(db);
  const orders = createSqliteOrderStore(db, carts);
  const notes = createSqliteNoteStore(db);
  /** A unit of work whose writes apply as they are queued. */
  const immediate = { defer: (write: Write<unknown>) => void apply(write) } as UnitOfWork;
  /** The records as cleanup leaves them, read synchronously. */
  const users = {
    find(collection: Collection, id: string): { isAnonymous: boolean; email: string } | null {
      const row = db.prepare(`SELECT is_anonymous, email FROM ${collection} WHERE id = ?`).get(id) as { is_anonymous: number; email: string } | undefined;
      return row ? { isAnonymous: row.is_anonymous === 1, email: row.email } : null;
    },
    touch: (collection: Collection, id: string, time: number) => apply(records.touch(collection, id, time)),
    /** Signs the guest up in place, as registering does. */
    convert: (collection: Collection, id: string, email: string) =>
      apply(records.promote(collection, id, { email, name: null, passwordHash: 'bcrypt-hash', now: Date.now() })),
  };

  /** Runs `write` with the clock set `daysAgo` days back. */
  function at<T>(daysAgo: number, write: () => T): T {
    clock.now = Date.now() - daysAgo * DAY;
    try { return write(); } finally { clock.now = Date.now(); }
  }

  return {
    db, sessionDb, users,
    /** A guest created `daysAgo` days ago; with `activeDaysAgo` it came back later (not bounced). */
    guest(daysAgo: number, options: { collection?: Collection; activeDaysAgo?: number } = {}): string {
      const collection = options.collection ?? 'users';
      const id = at(daysAgo, () => guests.create(immediate, collection).record.id);
      if (options.activeDaysAgo !== undefined) users.touch(collection, id, Date.now() - options.activeDaysAgo * DAY);
      return id;
    },
    registered(daysAgo: number, collection: Collection = 'users'): string {
      const id = newRecordId();
      const email = `${id.toLowerCase()}@example.com`;
      apply(records.insert(collection, {
        id, email, username: email, name: null, passwordHash: 'not-a-guest', isAnonymous: false, now: Date.now() - daysAgo * DAY, metadata: {},
      }));
      return id;
    },
    cart: (id: string) => apply(carts.add(id, 'ember-mug', 2, Date.now())),
    note: (id: string) => apply(notes.add(id, 'remember the milk', Date.now())),
    /** Places the account's cart as an order; returns the order id. */
    order(id: string): string {
      apply(carts.add(id, 'candle', 1, Date.now()));
      const orderId = newRecordId();
      apply(orders.placeFromCart(id, orderId, { name: 'Ada Guest', address: '1 Loop Lane', city: 'Leeds', postcode: 'LS1 1AA' }, Date.now()));
      return orderId;
    },
    /** A session row as connect-sqlite3 writes it; `accountId` null is a visitor who never signed in. */
    session(accountId: string | null, collection: Collection = 'users'): string {
      const sid = newRecordId();
      const expired = Date.now() + 7 * DAY;
      const sess = {
        cookie: { originalMaxAge: 7 * DAY, expires: new Date(expired).toISOString(), httpOnly: true, path: '/', sameSite: 'lax' },
        ...(accountId ? { auth: { id: accountId, collection }, activeAt: 0 } : { csrfSecret: 'secret' }),
      };
      sessionDb.prepare('INSERT INTO sessions (sid, expired, sess) VALUES (?, ?, ?)').run(sid, expired, JSON.stringify(sess));
      return sid;
    },
    close() {
      sessionDb.close();
      db.close();
    },
  };
}

/** Two stale guests (one in `users` with a session and an order, one in `customers`) and a fresh one. */
export function staleMix(shop: Shop): { stale: string; staleCustomer: string; fresh: string } {
  const stale = shop.guest(40);
  shop.session(stale);
  shop.order(stale);
  return { stale, staleCustomer: shop.guest(35, { collection: 'customers' }), fresh: shop.guest(1) };
}

/** Each test gets a fresh data dir with its shop open: `const t = useShop()`, then `t.dataDir`, `t.shop`. */
export function useShop(): { dataDir: string; shop: Shop } {
  const current = {} as { dataDir: string; shop: Shop };
  beforeEach(() => {
    current.dataDir = tempDataDir();
    current.shop = openShop(current.dataDir);
  });
  afterEach(() => {
    current.shop.close();
    fs.rmSync(current.dataDir, { recursive: true, force: true });
  });
  return current;
}

export function exists(db: Db, table: string, column: string, value: string): boolean {
  return db.prepare(`SELECT 1 FROM ${table} WHERE ${column} = ?`).get(value) !== undefined;
}

export function count(db: Db, sql: string, ...params: unknown[]): number {
  return db.prepare(`SELECT count(*) FROM (${sql})`).pluck().get(...params) as number;
}

export function sessionsOf(shop: Shop, accountId: string): number {
  return count(shop.sessionDb, `SELECT 1 FROM sessions WHERE json_extract(sess, '$.auth.id') = ?`, accountId);
}

export function isGuest(shop: Shop, id: string, collection: Collection = 'users'): boolean {
  return shop.users.find(collection, id)?.isAnonymous === true;
}

/** Runs cleanup the way the CLI does (its own connections and checkpointer) with these options. */
export function runCleanup(dataDir: string, options: CleanupRunOptions, watch?: CleanupWatch) {
  return cleanWith(openSqliteStaleGuestStore({ dataDir, collections: COLLECTIONS }), options, watch);
}

export type CleanupRunOptions = Partial<CleanupOptions> & { olderThanDays?: number };

/** Runs cleanup on `store` with these options (every collection, a 30-day cutoff unless given), then closes it. */
export async function cleanWith(store: StaleGuestStore, options: CleanupRunOptions, watch?: CleanupWatch) {
  try {
    return await deleteStaleGuests(store, {
      cutoff: Date.now() - (options.olderThanDays ?? 30) * DAY,
      bouncedCutoff: null,
      collections: COLLECTIONS,
      dryRun: false,
      batchSize: 1000,
      ...options,
    }, watch);
  } finally {
    await store.close();
  }
}
