import type pg from 'pg';
import { AuthError } from '../../auth/errors.ts';
import type { AccountStore, NewRecord, StoredRecord } from '../../auth/stores.ts';
import { isStorableText } from '../../plain-text.ts';
import { isUniqueViolation } from './errors.ts';
import { quotedTable } from './identifiers.ts';
import { EMAIL_LOCK_NAMESPACE } from './locks.ts';
import { AlreadyApplied, type Write } from '../unit-of-work.ts';
import { ON_SESSION_CONFLICT, sessionSaveOf, sessionValues, type SessionSave } from './session-rows.ts';
import { postgresStatement, postgresWrite } from './unit-of-work.ts';

/** The columns of every collection's table, in the order `insert` binds them. */
const RECORD_COLUMNS = 'id, email, username, name, password_hash, verified, is_anonymous, created_at, last_active_at, claimed_at, metadata, email_verified_at';

/** registeredEmails reads this many rows at a time, so a large table is never held in memory. */
const EMAIL_PAGE = 1000;

/** A collection table's row, as `find` reads it (and `to_json` of the row, its keys the column names). */
export interface AccountRow {
  id: string; email: string; username: string; name: string | null; password_hash: string;
  verified: boolean; is_anonymous: boolean; created_at: number; last_active_at: number;
  claimed_at: number | null; metadata: Record<string, unknown>; email_verified_at: number | null;
}

/**
 * The auth collections in PostgreSQL: one table per collection, each row's id also in
 * `accounts`. Statements are built once per collection from validated, quoted names; every value
 * is a bound parameter.
 */
export function createPostgresAccountStore(pool: pg.Pool, collections: readonly string[]): AccountStore {
  const byCollection = new Map(collections.map((collection) => [collection, statementsFor(collection)]));

  function statements(collection: string) {
    const found = byCollection.get(collection);
    // A page asking for a collection the config does not have is a bug in the page: a 500.
    if (!found) throw new Error(`unknown auth collection "${collection}" (GUEST_COLLECTIONS has ${collections.join(', ')})`);
    return found;
  }

  async function anyTaken(db: pg.ClientBase | pg.Pool, forms: readonly string[], exceptId?: string): Promise<boolean> {
    for (const statement of byCollection.values()) {
      const { rows } = await db.query<{ id: string }>(statement.idsByEmail, [forms]);
      if (rows.some((row) => row.id !== exceptId)) return true;
    }
    return false;
  }

  /**
   * Re-checks, inside the write's transaction, that no collection has the address. Emails are
   * unique across collections, which no index of one table can enforce; SQLite's transactions
   * never overlap, Postgres's do. So the transaction first takes a lock per address: a second
   * sign-up with it waits for the first to commit, and then sees its row.
   */
  async function claimEmail(client: pg.ClientBase, forms: readonly string[], exceptId?: string): Promise<void> {
    // Always in the same order, so two writers claiming several forms cannot deadlock.
    for (const form of [...new Set(forms.map((each) => each.toLowerCase()))].sort()) {
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext(lower($2)))', [EMAIL_LOCK_NAMESPACE, form]);
    }
    if (await anyTaken(client, forms, exceptId)) throw new AuthError('email_in_use');
  }

  return {
    collections,
    has: (collection) => byCollection.has(collection),

    async find(collection, id) {
      if (!isStorableText(id)) return null;
      const { rows } = await pool.query<AccountRow>({ ...statements(collection).find, values: [id] });
      return rows[0] ? toRecord(collection, rows[0]) : null;
    },

    async findRegisteredByEmail(email) {
      if (!isStorableText(email)) return null;
      for (const [collection, statement] of byCollection) {
        const { rows } = await pool.query<AccountRow>(statement.findRegisteredByEmail, [email]);
        if (rows[0]) return toRecord(collection, rows[0]);
      }
      return null;
    },

    emailTaken: (email, exceptId) => anyTaken(pool, [email], exceptId),

    async *registeredEmails() {
      for (const [collection, statement] of byCollection) {
        // Keyset pages in id order: no cursor, and no transaction held open between pages.
        for (let after = ''; ;) {
          const { rows } = await pool.query<{ id: string; email: string }>(statement.registeredEmails, [after, EMAIL_PAGE]);
          for (const row of rows) yield { collection, id: row.id, email: row.email };
          if (rows.length < EMAIL_PAGE) break;
          after = rows[rows.length - 1]!.id;
        }
      }
    },

    insert(collection, record) {
      const { insert } = statements(collection);
      return postgresWrite(async (client) => {
        // Guest addresses are made from their random id: only a real address can collide.
        if (!record.isAnonymous) await claimEmail(client, record.emailForms ?? [record.email]);
        await client.query('INSERT INTO accounts (id, collection) VALUES ($1, $2)', [record.id, collection]);
        await translateUnique(() => client.query(insert, insertValues(record)));
      });
    },

    insertGuest(collection, record) {
      const { insertGuest, insertGuestWithSession, isGuestWithCredential } = statements(collection);
      // One statement makes the guest (accounts row, collection row, guest_created event), so it
      // needs no transaction around it when it is all a page writes. The session the guest signs
      // in to, when the render saves it too (a new visitor's), goes in the same statement: one
      // round trip and one commit for a new guest, where the floor makes two.
      const make = (session?: SessionSave): Write<void> => postgresStatement(async (db) => {
        // A racing transaction's uncommitted insert of this id makes this one wait for its
        // commit, then insert nothing (nor the session): the row it then reads is that guest.
        const { rows } = await db.query<{ inserted: boolean }>(session
          ? { ...insertGuestWithSession, values: [...guestValues(collection, record), ...sessionValues(session.row)] }
          : { ...insertGuest, values: guestValues(collection, record) });
        if (rows[0]?.inserted) return session?.applied();
        // A statement of its own: the one above read from before the racing commit it waited for.
        const same = await db.query({ ...isGuestWithCredential, values: [record.id, record.passwordHash] });
        if (same.rowCount !== 1) throw new AuthError('stale_form');
        throw new AlreadyApplied(`guest ${record.id} was made by a racing request`);
      }, {
        carry(next) {
          const session = sessionSaveOf(next);
          return !session || session.row.accountId !== record.id ? undefined : make(session);
        },
      });
      return make();
    },

    promote(collection, id, promotion) {
      const { promote } = statements(collection);
      return postgresWrite(async (client) => {
        await claimEmail(client, promotion.emailForms ?? [promotion.email], id);
        const { email, name, passwordHash, now } = promotion;
        const result = await translateUnique(() => client.query(promote, [email, name, passwordHash, now, id]));
        // The WHERE clause is the guard: a concurrent conversion waits for the row, then finds
        // it registered and changes nothing.
        if (result.rowCount !== 1) throw new AuthError('not_anonymous');
      });
    },

    touch(collection, id, now) {
      const { touch } = statements(collection);
      return postgresStatement(async (db) => void await db.query({ ...touch, values: [now, id] }));
    },

    replaceGuestSecret(collection, id, secretHash, replacing) {
      const { replaceGuestSecret, replaceGuestSecretIf } = statements(collection);
      return postgresWrite(async (client) => {
        if (replacing === undefined) return (await client.query(replaceGuestSecret, [secretHash, id])).rowCount === 1;
        if ((await client.query(replaceGuestSecretIf, [secretHash, id, replacing])).rowCount !== 1) throw new AuthError('stale_form');
        return true;
      });
    },

    setPassword(collection, id, passwordHash, replacing) {
      const { setPassword, replacePassword } = statements(collection);
      return postgresWrite(async (client) => {
        if (replacing === undefined) return void await client.query(setPassword, [passwordHash, id]);
        // The password changed since the caller read it (a concurrent update waits for the row,
        // then finds another hash): what was to commit with this must not.
        const { rowCount } = await client.query(replacePassword, [passwordHash, id, replacing]);
        if (rowCount !== 1) throw new AuthError('stale_form');
      });
    },

    markEmailVerified(collection, id, email, now) {
      const { markEmailVerified } = statements(collection);
      return postgresWrite(async (client) => {
        if ((await client.query(markEmailVerified, [now, id, email])).rowCount !== 1) throw new AuthError('invalid_link');
      });
    },

    // The accounts row is the parent: its collection row, cart and notes go by cascade.
    delete: (id) => postgresWrite(async (client) => (await client.query('DELETE FROM accounts WHERE id = $1', [id])).rowCount === 1),
  };
}

/** The values of insertGuest: the collection row's, then the collection. */
function guestValues(collection: string, record: NewRecord): unknown[] {
  return [...insertValues(record), collection];
}

async function translateUnique<T>(statement: () => Promise<T>): Promise<T> {
  try {
    return await statement();
  } catch (error) {
    if (isUniqueViolation(error)) throw new AuthError('email_in_use');
    throw error;
  }
}

/** The values of one collection row, in RECORD_COLUMNS order. */
function insertValues(record: NewRecord): unknown[] {
  return [record.id, record.email, record.username, record.name, record.passwordHash, false,
    record.isAnonymous, record.now, record.now, null, JSON.stringify(record.metadata), null];
}

/**
 * A new guest in one statement: the accounts row first, and ON CONFLICT makes a racing twin's
 * statement insert nothing at all (nor its session). With `session`, the session signed in to the
 * guest too ($14–$17, as session-rows.ts binds them). Parameters are cast: in INSERT … SELECT,
 * Postgres does not take their types from the columns.
 */
function guestStatement(table: string, session: boolean): string {
  return `WITH account AS (
      INSERT INTO accounts (id, collection) VALUES ($1, $13) ON CONFLICT (id) DO NOTHING RETURNING id
    ), record AS (
      INSERT INTO ${table} (${RECORD_COLUMNS})
      SELECT id, $2::text, $3::text, $4::text, $5::text, $6::boolean, $7::boolean, $8::bigint, $9::bigint,
        $10::bigint, $11::jsonb, $12::bigint FROM account
    ), event AS (
      INSERT INTO auth_events (type, record_id, collection, created_at) SELECT 'guest_created', id, $13, $8 FROM account
    )${session ? `, session AS (
      INSERT INTO sessions (sid, sess, expires_at, account_id) SELECT $14::text, $15::text, $16::bigint, $17::text FROM account
      ${ON_SESSION_CONFLICT}
    )` : ''}
    SELECT EXISTS (SELECT 1 FROM account) AS inserted`;
}

/**
 * A collection's statements. Those on every page view and every new guest are named: pg prepares
 * each once per connection and Postgres plans it once, instead of parsing and planning it anew at
 * every request.
 */
function statementsFor(collection: string) {
  const table = quotedTable(collection);
  const named = (name: string, text: string) => ({ name: `accounts_${collection}_${name}`, text });
  return {
    find: named('find', `SELECT ${RECORD_COLUMNS} FROM ${table} WHERE id = $1`),
    insertGuest: named('insert_guest', guestStatement(table, false)),
    insertGuestWithSession: named('insert_guest_with_session', guestStatement(table, true)),
    // lower(email) on both sides: case-insensitive, as SQLite's NOCASE column, and on the index.
    findRegisteredByEmail: `SELECT ${RECORD_COLUMNS} FROM ${table} WHERE lower(email) = lower($1) AND NOT is_anonymous`,
    idsByEmail: `SELECT id FROM ${table} WHERE lower(email) = ANY (SELECT lower(form) FROM unnest($1::text[]) AS form)`,
    registeredEmails: `SELECT id, email FROM ${table} WHERE NOT is_anonymous AND id > $1 ORDER BY id LIMIT $2`,
    insert: `INSERT INTO ${table} (${RECORD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    promote: `UPDATE ${table} SET email = $1, username = $1, name = $2, password_hash = $3, is_anonymous = false,
      claimed_at = $4, last_active_at = $4 WHERE id = $5 AND is_anonymous`,
    isGuestWithCredential: named('is_guest_with_credential', `SELECT 1 FROM ${table} WHERE id = $1 AND is_anonymous AND password_hash = $2`),
    touch: named('touch', `UPDATE ${table} SET last_active_at = $1 WHERE id = $2`),
    replaceGuestSecret: `UPDATE ${table} SET password_hash = $1 WHERE id = $2 AND is_anonymous`,
    replaceGuestSecretIf: `UPDATE ${table} SET password_hash = $1 WHERE id = $2 AND is_anonymous AND password_hash = $3`,
    setPassword: `UPDATE ${table} SET password_hash = $1 WHERE id = $2 AND NOT is_anonymous`,
    replacePassword: `UPDATE ${table} SET password_hash = $1 WHERE id = $2 AND NOT is_anonymous AND password_hash = $3`,
    // The first verification's time is kept; `verified` follows it (the older column, kept consistent).
    markEmailVerified: `UPDATE ${table} SET email_verified_at = coalesce(email_verified_at, $1), verified = true
      WHERE id = $2 AND email = $3 AND NOT is_anonymous`,
  };
}

export function toRecord(collection: string, row: AccountRow): StoredRecord {
  return {
    id: row.id,
    collection,
    email: row.email,
    username: row.username,
    name: row.name,
    verified: row.verified,
    emailVerifiedAt: row.email_verified_at,
    isAnonymous: row.is_anonymous,
    createdAt: row.created_at,
    lastActiveAt: row.last_active_at,
    claimedAt: row.claimed_at,
    metadata: row.metadata,
    passwordHash: row.password_hash,
  };
}
