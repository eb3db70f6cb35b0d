import { EVENT_COLUMNS } from '../../src/db/postgres/event-log.ts';
import { quotedTable } from '../../src/db/postgres/identifiers.ts';
import { postgresWrite } from '../../src/db/postgres/unit-of-work.ts';
import type { Transactor } from '../../src/db/unit-of-work.ts';
import type { SeedWriter } from './seed-guests.ts';

/**
 * Seeded guests into PostgreSQL: one multi-row INSERT per table per chunk, the rows passed as
 * arrays and unnested by the server, all of a chunk in one transaction. Through the stores each
 * guest would cost five round trips (accounts, record, touch, event, session), a million guests
 * several minutes; this way a chunk of 20,000 is five statements. The columns left out take the
 * schema's defaults (not verified, no name, no claim, empty metadata), as a new guest's do.
 */
export function createPostgresSeedWriter(storage: { transactor: Transactor }, collection: string): SeedWriter {
  const insertRecords = `INSERT INTO ${quotedTable(collection)}
      (id, email, username, password_hash, is_anonymous, created_at, last_active_at)
    SELECT id, email, username, hash, true, created, active
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[]) AS g (id, email, username, hash, created, active)`;
  return {
    async write(guests) {
      const ids = guests.map((guest) => guest.id);
      const created = guests.map((guest) => guest.createdAt);
      const carts = guests.filter((guest) => guest.cartProductId);
      const sessions = guests.flatMap((guest) => (guest.session ? [{ ...guest.session, id: guest.id }] : []));
      await storage.transactor.apply(postgresWrite(async (client) => {
        await client.query('INSERT INTO accounts (id, collection) SELECT id, $2 FROM unnest($1::text[]) AS id', [ids, collection]);
        await client.query(insertRecords, [ids, column(guests, 'email'), column(guests, 'username'), column(guests, 'secretHash'),
          created, column(guests, 'lastActiveAt')]);
        await client.query(`INSERT INTO auth_events (${EVENT_COLUMNS})
          SELECT 'guest_created', id, $2, at, NULL FROM unnest($1::text[], $3::bigint[]) AS e (id, at)`, [ids, collection, created]);
        if (carts.length > 0) {
          await client.query(`INSERT INTO cart_items (account_id, product_id, quantity, added_at)
            SELECT id, product, 1, at FROM unnest($1::text[], $2::text[], $3::bigint[]) AS c (id, product, at)`,
          [column(carts, 'id'), column(carts, 'cartProductId'), column(carts, 'lastActiveAt')]);
        }
        if (sessions.length > 0) {
          await client.query(`INSERT INTO sessions (sid, sess, expires_at, account_id)
            SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[])`,
          [column(sessions, 'sid'), column(sessions, 'sess'), column(sessions, 'expiresAt'), column(sessions, 'id')]);
        }
      }));
    },
  };
}

function column<T, K extends keyof T>(rows: readonly T[], key: K): Array<T[K]> {
  return rows.map((row) => row[key]);
}
