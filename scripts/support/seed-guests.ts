import { randomBytes } from 'node:crypto';
import { GUEST_HASH_PREFIX, guestEmail } from '../../src/auth/credentials.ts';
import { newRecordId, RECORD_ID_RANDOM_BYTES as ID } from '../../src/auth/record-ids.ts';
import { sessionRow } from '../../src/db/sqlite/session-store.ts';
import { catalogue } from '../../src/shop/products.ts';

export interface SeedOptions {
  count: number;
  /** Every guest was last active at least this long ago (ms), up to a day more, the first seeded the oldest. */
  ageMs: number;
  collection: string;
  /** One live session per guest, as express-session stores it. */
  withSessions: boolean;
  /** The fraction of guests with a cart row, 0–1. */
  cartRatio: number;
  /** How long the sessions stay valid from now (ms). Default 7 days, the app's default. */
  sessionTtlMs?: number;
  now?: number;
}

export interface SeedSummary { guests: number; sessions: number; carts: number; seconds: number }

/** One guest as the app would have left it, for a backend's writer to store. */
export interface SeededGuest {
  index: number;
  id: string;
  email: string;
  username: string;
  secretHash: string;
  createdAt: number;
  lastActiveAt: number;
  /** The product of its one cart line, or null: no cart. */
  cartProductId: string | null;
  /** Its session signed in to it (express-session's JSON), or null: --no-sessions. */
  session: { sid: string; expiresAt: number; sess: string } | null;
}

/**
 * Where seeded guests go: one backend's tables, a chunk at a time. For each guest: its accounts
 * and collection rows, a `guest_created` event at its creation, its cart line and session if any.
 */
export interface SeedWriter {
  write(guests: readonly SeededGuest[]): Promise<void>;
}

const DAY = 86_400_000;
const CHUNK = 20_000;
// id + credential (32) + session id (24, as express-session's uid-safe makes)
const BYTES_PER_GUEST = ID + 32 + 24;

/**
 * Writes `count` guests as the app would have left them. Which guest gets what is deterministic
 * (so counts are exact): guests with a cart browsed after arriving; of the rest, every other one
 * bounced (`last_active_at = created_at`). Sessions are written unexpired, so they are still
 * there for cleanup to remove (the server's expiry purge would take them first). Chunks of
 * 20,000 guests, one transaction each: a million guests take seconds, not hours.
 */
export async function seedGuests(writer: SeedWriter, options: SeedOptions): Promise<SeedSummary> {
  const started = performance.now();
  const now = options.now ?? Date.now();
  const summary: SeedSummary = { guests: 0, sessions: 0, carts: 0, seconds: 0 };
  const chunk = (first: number) => makeGuests(first, Math.min(CHUNK, options.count - first), options, now);
  let guests = chunk(0);
  for (let first = 0; first < options.count; first += CHUNK) {
    const writing = writer.write(guests);
    summary.guests += guests.length;
    summary.sessions += guests.filter((guest) => guest.session).length;
    summary.carts += guests.filter((guest) => guest.cartProductId).length;
    // The next chunk is made while a database server (PostgreSQL) stores this one.
    if (first + CHUNK < options.count) guests = chunk(first + CHUNK);
    await writing;
  }
  summary.seconds = Math.round(performance.now() - started) / 1000;
  return summary;
}

function makeGuests(first: number, count: number, options: SeedOptions, now: number): SeededGuest[] {
  const sessionTtlMs = options.sessionTtlMs ?? 7 * DAY;
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
    const createdAt = bounced ? lastActiveAt : lastActiveAt - 60_000 - (index % 3_600_000);
    const id = newRecordId(createdAt, bytes);
    const session = options.withSessions
      ? sessionRow({ id, collection: options.collection }, { activeAt: lastActiveAt, ttlMs: sessionTtlMs, now })
      : null;
    guests.push({
      index,
      id,
      // As guests.ts makes them.
      email: guestEmail(id),
      username: `guest_${id}`,
      secretHash: `${GUEST_HASH_PREFIX}${bytes.subarray(ID, ID + 32).toString('base64url')}`,
      createdAt,
      lastActiveAt,
      cartProductId: cart ? catalogue[index % catalogue.length]!.id : null,
      session: session && { sid: bytes.subarray(ID + 32).toString('base64url'), expiresAt: session.expired, sess: session.sess },
    });
  }
  return guests;
}
