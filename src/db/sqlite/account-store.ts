import type Database from 'better-sqlite3';
import { AuthError } from '../../auth/errors.ts';
import type { AccountStore, NewRecord, StoredRecord } from '../../auth/stores.ts';
import { isUniqueViolation } from './errors.ts';
import { EVENT_COLUMNS } from './event-log.ts';
import { AlreadyApplied } from '../unit-of-work.ts';
import { sqliteWrite } from './unit-of-work.ts';

/** The columns of every collection's table, in the order `insert` binds them. */
const RECORD_COLUMNS = 'id, email, username, name, password_hash, verified, is_anonymous, created_at, last_active_at, claimed_at, metadata, email_verified_at';

interface Row {
  id: string; email: string; username: string; name: string | null; password_hash: string;
  verified: number; is_anonymous: number; created_at: number; last_active_at: number;
  claimed_at: number | null; metadata: string; email_verified_at: number | null;
}

/**
 * The auth collections in SQLite: one table per collection, each row's id also in `accounts`
 * (which app tables reference). Statements are prepared once per collection; table names come
 * only from the validated config, never from a request.
 */
export function createSqliteAccountStore(db: Database.Database, collections: readonly string[]): AccountStore {
  const byCollection = new Map(collections.map((table) => [table, prepare(db, table)]));
  const insertAccount = db.prepare('INSERT INTO accounts (id, collection) VALUES (?, ?)');
  const adoptAccount = db.prepare('INSERT INTO accounts (id, collection) VALUES (?, ?) ON CONFLICT (id) DO NOTHING');
  const guestCreated = db.prepare(`INSERT INTO auth_events (${EVENT_COLUMNS}) VALUES ('guest_created', ?, ?, ?, NULL)`);
  const deleteAccount = db.prepare('DELETE FROM accounts WHERE id = ?');

  function statements(collection: string) {
    const found = byCollection.get(collection);
    // A page asking for a collection the config does not have is a bug in the page: a 500.
    if (!found) throw new Error(`unknown auth collection "${collection}" (GUEST_COLLECTIONS has ${collections.join(', ')})`);
    return found;
  }

  function emailTaken(email: string, exceptId?: string): boolean {
    for (const statement of byCollection.values()) {
      const id = statement.idByEmail.get(email) as string | undefined;
      if (id !== undefined && id !== exceptId) return true;
    }
    return false;
  }

  const anyTaken = (forms: readonly string[], exceptId?: string) => forms.some((form) => emailTaken(form, exceptId));

  return {
    collections,
    has: (collection) => byCollection.has(collection),

    async find(collection, id) {
      const row = statements(collection).find.get(id) as Row | undefined;
      return row ? toRecord(collection, row) : null;
    },

    async findRegisteredByEmail(email) {
      for (const [collection, statement] of byCollection) {
        const row = statement.findRegisteredByEmail.get(email) as Row | undefined;
        if (row) return toRecord(collection, row);
      }
      return null;
    },

    emailTaken: async (email, exceptId) => emailTaken(email, exceptId),

    async *registeredEmails() {
      for (const [collection, statement] of byCollection) {
        for (const row of statement.registeredEmails.iterate() as Iterable<{ id: string; email: string }>) {
          yield { collection, id: row.id, email: row.email };
        }
      }
    },

    insert(collection, record) {
      const insert = statements(collection).insert;
      return sqliteWrite(() => {
        // Guest addresses are made from their random id: only a real address can collide.
        if (!record.isAnonymous && anyTaken(record.emailForms ?? [record.email])) throw new AuthError('email_in_use');
        insertAccount.run(record.id, collection);
        try {
          insert.run(...insertValues(record));
        } catch (error) {
          if (isUniqueViolation(error)) throw new AuthError('email_in_use');
          throw error;
        }
      });
    },

    insertGuest(collection, record) {
      const { insert, isGuestWithCredential } = statements(collection);
      return sqliteWrite(() => {
        if (adoptAccount.run(record.id, collection).changes === 1) {
          insert.run(...insertValues(record));
          guestCreated.run(record.id, collection, record.now);
          return;
        }
        // A racing request inserted it first: that must be this very guest, still a guest.
        if (isGuestWithCredential.get(record.id, record.passwordHash) === undefined) throw new AuthError('stale_form');
        throw new AlreadyApplied(`guest ${record.id} was made by a racing request`);
      });
    },

    promote(collection, id, promotion) {
      const promote = statements(collection).promote;
      return sqliteWrite(() => {
        if (anyTaken(promotion.emailForms ?? [promotion.email], id)) throw new AuthError('email_in_use');
        const { email, name, passwordHash, now } = promotion;
        let changes: number;
        try {
          changes = promote.run({ email, name, passwordHash, now, id }).changes;
        } catch (error) {
          if (isUniqueViolation(error)) throw new AuthError('email_in_use');
          throw error;
        }
        // The WHERE clause is the guard: a second, concurrent conversion changes nothing.
        if (changes !== 1) throw new AuthError('not_anonymous');
      });
    },

    touch(collection, id, now) {
      const touch = statements(collection).touch;
      return sqliteWrite(() => void touch.run(now, id));
    },

    replaceGuestSecret(collection, id, secretHash, replacing) {
      const { replaceGuestSecret, replaceGuestSecretIf } = statements(collection);
      return sqliteWrite(() => {
        if (replacing === undefined) return replaceGuestSecret.run(secretHash, id).changes === 1;
        if (replaceGuestSecretIf.run(secretHash, id, replacing).changes !== 1) throw new AuthError('stale_form');
        return true;
      });
    },

    setPassword(collection, id, passwordHash, replacing) {
      const { setPassword, replacePassword } = statements(collection);
      return sqliteWrite(() => {
        if (replacing === undefined) return void setPassword.run(passwordHash, id);
        // The password changed since the caller read it: what was to commit with this must not.
        if (replacePassword.run(passwordHash, id, replacing).changes !== 1) throw new AuthError('stale_form');
      });
    },

    markEmailVerified(collection, id, email, now) {
      const markEmailVerified = statements(collection).markEmailVerified;
      return sqliteWrite(() => {
        if (markEmailVerified.run(now, id, email).changes !== 1) throw new AuthError('invalid_link');
      });
    },

    // The accounts row is the parent: its collection row, cart and notes go by cascade.
    delete: (id) => sqliteWrite(() => deleteAccount.run(id).changes === 1),
  };
}

/** The values of one collection row, in RECORD_COLUMNS order. */
function insertValues(record: NewRecord): unknown[] {
  return [record.id, record.email, record.username, record.name, record.passwordHash, 0,
    record.isAnonymous ? 1 : 0, record.now, record.now, null, JSON.stringify(record.metadata), null];
}

function insertRecordSql(table: string): string {
  return `INSERT INTO ${table} (${RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
}

function prepare(db: Database.Database, table: string) {
  return {
    find: db.prepare(`SELECT ${RECORD_COLUMNS} FROM ${table} WHERE id = ?`),
    findRegisteredByEmail: db.prepare(`SELECT ${RECORD_COLUMNS} FROM ${table} WHERE email = ? AND is_anonymous = 0`),
    idByEmail: db.prepare(`SELECT id FROM ${table} WHERE email = ?`).pluck(),
    registeredEmails: db.prepare(`SELECT id, email FROM ${table} WHERE is_anonymous = 0 ORDER BY id`),
    insert: db.prepare(insertRecordSql(table)),
    promote: db.prepare(`UPDATE ${table} SET email = :email, username = :email, name = :name,
      password_hash = :passwordHash, is_anonymous = 0, claimed_at = :now, last_active_at = :now
      WHERE id = :id AND is_anonymous = 1`),
    isGuestWithCredential: db.prepare(`SELECT 1 FROM ${table} WHERE id = ? AND is_anonymous = 1 AND password_hash = ?`),
    touch: db.prepare(`UPDATE ${table} SET last_active_at = ? WHERE id = ?`),
    replaceGuestSecret: db.prepare(`UPDATE ${table} SET password_hash = ? WHERE id = ? AND is_anonymous = 1`),
    replaceGuestSecretIf: db.prepare(`UPDATE ${table} SET password_hash = ? WHERE id = ? AND is_anonymous = 1 AND password_hash = ?`),
    setPassword: db.prepare(`UPDATE ${table} SET password_hash = ? WHERE id = ? AND is_anonymous = 0`),
    replacePassword: db.prepare(`UPDATE ${table} SET password_hash = ? WHERE id = ? AND is_anonymous = 0 AND password_hash = ?`),
    // The first verification's time is kept; `verified` follows it (the older column, kept consistent).
    markEmailVerified: db.prepare(`UPDATE ${table} SET email_verified_at = coalesce(email_verified_at, ?), verified = 1
      WHERE id = ? AND email = ? AND is_anonymous = 0`),
  };
}

function toRecord(collection: string, row: Row): StoredRecord {
  return {
    id: row.id,
    collection,
    email: row.email,
    username: row.username,
    name: row.name,
    verified: row.verified === 1,
    emailVerifiedAt: row.email_verified_at,
    isAnonymous: row.is_anonymous === 1,
    createdAt: row.created_at,
    lastActiveAt: row.last_active_at,
    claimedAt: row.claimed_at,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    passwordHash: row.password_hash,
  };
}
