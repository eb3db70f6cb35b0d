import { isUniqueViolation, type Db } from '../db/open.ts';
import { AuthError } from './errors.ts';

/** A record as templates see it (`request.auth`): never the password hash. */
export interface AuthRecord {
  id: string;
  collection: string;
  email: string;
  username: string;
  name: string | null;
  verified: boolean;
  isAnonymous: boolean;
  createdAt: number;
  lastActiveAt: number;
  claimedAt: number | null;
  metadata: Record<string, unknown>;
}

export interface StoredRecord extends AuthRecord { passwordHash: string }

interface Row {
  id: string; email: string; username: string; name: string | null; password_hash: string;
  verified: number; is_anonymous: number; created_at: number; last_active_at: number;
  claimed_at: number | null; metadata: string;
}

export interface NewGuest { id: string; email: string; passwordHash: string; now: number; metadata: object }

export type UserStore = ReturnType<typeof createUserStore>;

/**
 * Reads and writes the auth collections. Statements are prepared once per collection; table
 * names come only from the validated config, never from a request.
 */
export function createUserStore(db: Db, collections: readonly string[]) {
  const byCollection = new Map(collections.map((table) => [table, prepare(db, table)]));
  const insertAccount = db.prepare('INSERT INTO accounts (id, collection) VALUES (?, ?)');
  const deleteAccount = db.prepare('DELETE FROM accounts WHERE id = ?');

  function statements(collection: string) {
    const found = byCollection.get(collection);
    if (!found) throw new AuthError('unknown_collection');
    return found;
  }

  return {
    collections,
    has: (collection: string) => byCollection.has(collection),

    find(collection: string, id: string): StoredRecord | null {
      const row = statements(collection).find.get(id) as Row | undefined;
      return row ? toRecord(collection, row) : null;
    },

    /** A registered (never a guest) account with this email, in any collection. */
    findRegisteredByEmail(email: string): StoredRecord | null {
      for (const [collection, statement] of byCollection) {
        const row = statement.findRegisteredByEmail.get(email) as Row | undefined;
        if (row) return toRecord(collection, row);
      }
      return null;
    },

    /** Emails are unique across collections, so a converted `customers` guest and a `users` account never share one. */
    emailTaken(email: string, exceptId?: string): boolean {
      for (const statement of byCollection.values()) {
        const id = statement.idByEmail.get(email) as string | undefined;
        if (id !== undefined && id !== exceptId) return true;
      }
      return false;
    },

    /** Every registered account's email as stored, collection by collection. */
    *registeredEmails(): Generator<{ collection: string; id: string; email: string }> {
      for (const [collection, statement] of byCollection) {
        for (const row of statement.registeredEmails.iterate() as Iterable<{ id: string; email: string }>) {
          yield { collection, id: row.id, email: row.email };
        }
      }
    },

    insertGuest(collection: string, guest: NewGuest): void {
      const statement = statements(collection).insert;
      db.transaction(() => {
        insertAccount.run(guest.id, collection);
        statement.run(guest.id, guest.email, `guest_${guest.id}`, null, guest.passwordHash, 1,
          guest.now, guest.now, null, JSON.stringify(guest.metadata));
      })();
    },

    insertRegistered(collection: string, user: { id: string; email: string; name: string | null; passwordHash: string; now: number }): void {
      const statement = statements(collection).insert;
      try {
        db.transaction(() => {
          insertAccount.run(user.id, collection);
          statement.run(user.id, user.email, user.email, user.name, user.passwordHash, 0,
            user.now, user.now, null, '{}');
        })();
      } catch (error) {
        if (isUniqueViolation(error)) throw new AuthError('email_in_use');
        throw error;
      }
    },

    /** The WHERE clause is the guard: a second, concurrent conversion changes nothing and gets false. */
    promote(collection: string, id: string, email: string, name: string | null, passwordHash: string, now: number): boolean {
      try {
        return statements(collection).promote.run({ email, name, passwordHash, now, id }).changes === 1;
      } catch (error) {
        if (isUniqueViolation(error)) throw new AuthError('email_in_use');
        throw error;
      }
    },

    touch(collection: string, id: string, now: number): void {
      statements(collection).touch.run(now, id);
    },

    replaceGuestSecret(collection: string, id: string, passwordHash: string): boolean {
      return statements(collection).replaceGuestSecret.run(passwordHash, id).changes === 1;
    },

    setPassword(collection: string, id: string, passwordHash: string): void {
      statements(collection).setPassword.run(passwordHash, id);
    },

    /** Deletes the account; its cart and notes go by cascade, its orders are detached. */
    delete(id: string): boolean {
      return deleteAccount.run(id).changes === 1;
    },
  };
}

function prepare(db: Db, table: string) {
  const columns = 'id, email, username, name, password_hash, verified, is_anonymous, created_at, last_active_at, claimed_at, metadata';
  return {
    find: db.prepare(`SELECT ${columns} FROM ${table} WHERE id = ?`),
    findRegisteredByEmail: db.prepare(`SELECT ${columns} FROM ${table} WHERE email = ? AND is_anonymous = 0`),
    idByEmail: db.prepare(`SELECT id FROM ${table} WHERE email = ?`).pluck(),
    registeredEmails: db.prepare(`SELECT id, email FROM ${table} WHERE is_anonymous = 0 ORDER BY id`),
    insert: db.prepare(`INSERT INTO ${table} (${columns}) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)`),
    promote: db.prepare(`UPDATE ${table} SET email = :email, username = :email, name = :name,
      password_hash = :passwordHash, is_anonymous = 0, claimed_at = :now, last_active_at = :now
      WHERE id = :id AND is_anonymous = 1`),
    touch: db.prepare(`UPDATE ${table} SET last_active_at = ? WHERE id = ?`),
    replaceGuestSecret: db.prepare(`UPDATE ${table} SET password_hash = ? WHERE id = ? AND is_anonymous = 1`),
    setPassword: db.prepare(`UPDATE ${table} SET password_hash = ? WHERE id = ? AND is_anonymous = 0`),
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
    isAnonymous: row.is_anonymous === 1,
    createdAt: row.created_at,
    lastActiveAt: row.last_active_at,
    claimedAt: row.claimed_at,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    passwordHash: row.password_hash,
  };
}

/** What a template may see of a record. */
export function publicRecord(record: StoredRecord): AuthRecord {
  const { passwordHash: _hidden, ...visible } = record;
  return visible;
}
