import { randomBytes } from 'node:crypto';
import { GUEST_HASH_PREFIX, guestEmail } from '../../src/auth/credentials.ts';
import type { Db } from '../../src/db/sqlite/open.ts';
import { createSqliteAccountStore } from '../../src/db/sqlite/account-store.ts';
import { createSqliteEventLog } from '../../src/db/sqlite/event-log.ts';
import { sessionRow } from '../../src/db/sqlite/session-store.ts';
import { createSqliteCartStore } from '../../src/db/sqlite/shop-stores.ts';
import { applySqliteWrite } from '../../src/db/sqlite/unit-of-work.ts';
import { catalogue } from '../../src/shop/products.ts';

export interface SeedOptions {
  count: number;
  /** Every guest was last active at least this long ago (ms), up to a day more, the first seeded the oldest. */
  ageMs: number;
  collection: string;
  /** One live session per guest in connect-sqlite3's format. */
  withSessions: boolean;
  /** The fraction of guests with a cart row, 0–1. */
  cartRatio: number;
  /** How long the sessions stay valid from now (ms). Default 7 days, the app's default. */
  sessionTtlMs?: number;
  now?: number;
}

export interface SeedSummary { guests: number; sessions: number; carts: number; seconds: number }

const DAY = 86_400_000;
const CHUNK = 20_000;
// id (15) + credential (32) + session id (24, as express-session's uid-safe makes)
const BYTES_PER_GUEST = 71;

/**
 * Writes `count` guests as the app would have left them: the accounts and collection rows, a
 * `guest_created` event, a session, and for some a cart row. Which guest gets what is
 * deterministic (so counts are exact): guests with a cart browsed after arriving; of the rest,
 * every other one bounced (`last_active_at = created_at`). Sessions are written unexpired, so
 * they are still there for cleanup to remove (the server's expiry purge would take them first).
 * Big transactions and statements prepared once: a million guests take seconds, not hours.
 */
export function seedGuests(target: { db: Db; sessionDb: Db }, options: SeedOptions): SeedSummary {
  const started = performance.now();
  const now = options.now ?? Date.now();
  const write = prepareWrites(target, options.collection);
  const sessionTtlMs = options.sessionTtlMs ?? 7 * DAY;
  const summary: SeedSummary = { guests: 0, sessions: 0, carts: 0, seconds: 0 };
  for (let first = 0; first < options.count; first += CHUNK) {
    const guests = makeGuests(first, Math.min(CHUNK, options.count - first), options, now);
    target.db.transaction(() => {
      for (const guest of guests) {
        write.guest(guest);
        if (guest.cart) write.cart(guest, catalogue[guest.index % catalogue.length]!.id);
      }
    })();
    if (options.withSessions) {
      target.sessionDb.transaction(() => guests.forEach((guest) => write.session(guest, now, sessionTtlMs)))();
      summary.sessions += guests.length;
    }
    summary.guests += guests.length;
    summary.carts += guests.filter((guest) => guest.cart).length;
  }
  summary.seconds = Math.round(performance.now() - started) / 1000;
  return summary;
}

interface SeededGuest {
  index: number; id: string; secretHash: string; sid: string; createdAt: number; lastActiveAt: number; cart: boolean;
}

function makeGuests(first: number, count: number, options: SeedOptions, now: number): SeededGuest[] {
  // One call for all the randomness of a chunk: per-guest randomBytes calls dominate otherwise.
  const random = randomBytes(count * BYTES_PER_GUEST);
  const guests: SeededGuest[] = [];
  for (let offset = 0; offset < count; offset++) {
    const index = first + offset;
    const bytes = random.subarray(offset * BYTES_PER_GUEST, (offset + 1) * BYTES_PER_GUEST);
    // Spread over a day in creation order, as guests arrive one after another.
    const lastActiveAt = now - options.ageMs - Math.floor(((options.count - index) / options.count) * DAY);
    // Exactly floor(count × ratio) guests get a cart, spread evenly.
    const cart = Math.floor((index + 1) * options.cartRatio) > Math.floor(index * options.cartRatio);
    const bounced = !cart && index % 2 === 0;
    guests.push({
      index,
      id: bytes.subarray(0, 15).toString('base64url'),
      secretHash: `${GUEST_HASH_PREFIX}${bytes.subarray(15, 47).toString('base64url')}`,
      sid: bytes.subarray(47, 71).toString('base64url'),
      createdAt: bounced ? lastActiveAt : lastActiveAt - 60_000 - (index % 3_600_000),
      lastActiveAt,
      cart,
    });
  }
  return guests;
}

/**
 * The app's own SQLite stores write each row, applied at once inside the chunk's transaction:
 * a schema change is one edit, in the store, and seeding follows it.
 */
function prepareWrites(target: { db: Db; sessionDb: Db }, collection: string) {
  const { db, sessionDb } = target;
  let at = 0;
  const records = createSqliteAccountStore(db, [collection]);
  const events = createSqliteEventLog(db, () => at);
  const carts = createSqliteCartStore(db);
  const session = sessionDb.prepare('INSERT INTO sessions (sid, expired, sess) VALUES (?, ?, ?)');
  return {
    guest(guest: SeededGuest): void {
      at = guest.createdAt;
      applySqliteWrite(records.insert(collection, {
        id: guest.id, email: guestEmail(guest.id), username: `guest_${guest.id}`, name: null,
        passwordHash: guest.secretHash, isAnonymous: true, now: guest.createdAt, metadata: {},
      }));
      if (guest.lastActiveAt !== guest.createdAt) applySqliteWrite(records.touch(collection, guest.id, guest.lastActiveAt));
      applySqliteWrite(events.record('guest_created', guest.id, collection));
    },
    cart: (guest: SeededGuest, productId: string) => applySqliteWrite(carts.add(guest.id, productId, 1, guest.lastActiveAt)),
    session(guest: SeededGuest, now: number, ttlMs: number): void {
      const row = sessionRow({ id: guest.id, collection }, { activeAt: guest.lastActiveAt, ttlMs, now });
      session.run(guest.sid, row.expired, row.sess);
    },
  };
}
