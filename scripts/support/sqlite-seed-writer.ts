import { createSqliteAccountStore } from '../../src/db/sqlite/account-store.ts';
import { createSqliteEventLog } from '../../src/db/sqlite/event-log.ts';
import type { Db } from '../../src/db/sqlite/open.ts';
import { createSqliteCartStore } from '../../src/db/sqlite/shop-stores.ts';
import { applySqliteWrite } from '../../src/db/sqlite/unit-of-work.ts';
import type { SeedWriter } from './seed-guests.ts';

/**
 * Seeded guests into `app.db` and `sessions.db`. The app's own SQLite stores write each row,
 * applied at once inside the chunk's transaction: a schema change is one edit, in the store, and
 * seeding follows it. Statements prepared once, one transaction per chunk: SQLite writes a
 * million guests this way in seconds.
 */
export function createSqliteSeedWriter(target: { db: Db; sessionDb: Db }, collection: string): SeedWriter {
  const { db, sessionDb } = target;
  let at = 0;
  const records = createSqliteAccountStore(db, [collection]);
  const events = createSqliteEventLog(db, () => at);
  const carts = createSqliteCartStore(db);
  const session = sessionDb.prepare('INSERT INTO sessions (sid, expired, sess) VALUES (?, ?, ?)');
  return {
    async write(guests) {
      db.transaction(() => {
        for (const guest of guests) {
          at = guest.createdAt;
          applySqliteWrite(records.insert(collection, {
            id: guest.id, email: guest.email, username: guest.username, name: null,
            passwordHash: guest.secretHash, isAnonymous: true, now: guest.createdAt, metadata: {},
          }));
          if (guest.lastActiveAt !== guest.createdAt) applySqliteWrite(records.touch(collection, guest.id, guest.lastActiveAt));
          applySqliteWrite(events.record('guest_created', guest.id, collection));
          if (guest.cartProductId) applySqliteWrite(carts.add(guest.id, guest.cartProductId, 1, guest.lastActiveAt));
        }
      })();
      sessionDb.transaction(() => {
        for (const guest of guests) if (guest.session) session.run(guest.session.sid, guest.session.expiresAt, guest.session.sess);
      })();
    },
  };
}
