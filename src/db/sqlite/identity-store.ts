import type Database from 'better-sqlite3';
import { IdentityError } from '../../auth/oidc/errors.ts';
import type { IdentityStore, LinkedIdentity } from '../../auth/stores.ts';
import { createAccountWrite } from './account-writes.ts';
import { isUniqueViolation } from './errors.ts';
import { sqliteWrite } from './unit-of-work.ts';

const COLUMNS = 'provider, subject, account_id, email, email_verified, linked_at';

interface Row { provider: string; subject: string; account_id: string; email: string | null; email_verified: number; linked_at: number }

/** `identities` in SQLite. A transaction here never overlaps another, so unlink's count is its own. */
export function createSqliteIdentityStore(db: Database.Database): IdentityStore {
  const find = db.prepare(`SELECT ${COLUMNS} FROM identities WHERE provider = ? AND subject = ?`);
  const listFor = db.prepare(`SELECT ${COLUMNS} FROM identities WHERE account_id = ? ORDER BY linked_at, provider, subject`);
  const insert = db.prepare(`INSERT INTO identities (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`);
  const count = db.prepare('SELECT count(*) FROM identities WHERE account_id = ?').pluck();
  const remove = db.prepare('DELETE FROM identities WHERE account_id = ? AND provider = ? AND subject = ?');
  // A link for a guest that cleanup deleted meanwhile fails as AccountGoneError, not as a bug.
  const forAccount = createAccountWrite(db);

  return {
    async find(provider, subject) {
      const row = find.get(provider, subject) as Row | undefined;
      return row ? toIdentity(row) : null;
    },

    listFor: async (accountId) => (listFor.all(accountId) as Row[]).map(toIdentity),

    link: (identity) => sqliteWrite(() => forAccount(identity.accountId, () => {
      try {
        insert.run(identity.provider, identity.subject, identity.accountId, identity.email, identity.emailVerified ? 1 : 0, identity.linkedAt);
      } catch (error) {
        if (isUniqueViolation(error)) throw new IdentityError('identity_in_use');
        throw error;
      }
    })),

    unlink: (accountId, provider, subject, hasPassword) => sqliteWrite(() => {
      const owned = find.get(provider, subject) as Row | undefined;
      if (owned?.account_id !== accountId) throw new IdentityError('not_linked');
      if (!hasPassword && (count.get(accountId) as number) <= 1) throw new IdentityError('last_sign_in_method');
      remove.run(accountId, provider, subject);
    }),
  };
}

function toIdentity(row: Row): LinkedIdentity {
  return {
    provider: row.provider, subject: row.subject, accountId: row.account_id, email: row.email,
    emailVerified: row.email_verified === 1, linkedAt: row.linked_at,
  };
}
