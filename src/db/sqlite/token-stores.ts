import type Database from 'better-sqlite3';
import { AuthError } from '../../auth/errors.ts';
import type { AccountTokenStore, PendingConversion, PendingConversionStore, StoredAccountToken, TokenPurpose } from '../../auth/stores.ts';
import { createAccountWrite } from './account-writes.ts';
import { sqliteWrite } from './unit-of-work.ts';

interface TokenRow {
  purpose: TokenPurpose; account_id: string; collection: string; bound: string; expires_at: number; used_at: number | null;
}

/** `account_tokens` in SQLite. */
export function createSqliteAccountTokenStore(db: Database.Database): AccountTokenStore {
  const forAccount = createAccountWrite(db);
  const dropSpent = db.prepare(`DELETE FROM account_tokens
    WHERE account_id = ? AND purpose = ? AND (used_at IS NOT NULL OR expires_at <= ?)`);
  const insert = db.prepare(`INSERT INTO account_tokens (hash, purpose, account_id, bound, expires_at, used_at, created_at)
    VALUES (?, ?, ?, ?, ?, NULL, ?)`);
  const find = db.prepare(`SELECT t.purpose, t.account_id, a.collection, t.bound, t.expires_at, t.used_at
    FROM account_tokens t JOIN accounts a ON a.id = t.account_id WHERE t.hash = ?`);
  // Every condition in the one UPDATE: the check and the marking cannot be told apart by a racer.
  const consume = db.prepare(`UPDATE account_tokens SET used_at = ?
    WHERE hash = ? AND purpose = ? AND account_id = ? AND bound = ? AND used_at IS NULL AND expires_at > ?
    RETURNING account_id`).pluck();

  return {
    issue: (token) => sqliteWrite(() => forAccount(token.accountId, () => {
      dropSpent.run(token.accountId, token.purpose, token.now);
      insert.run(token.hash, token.purpose, token.accountId, token.bound, token.expiresAt, token.now);
    })),

    async find(hash) {
      const row = find.get(hash) as TokenRow | undefined;
      return row ? tokenOf(row) : null;
    },

    consume: (hash, expected, now) => sqliteWrite(() => {
      const accountId = consume.get(now, hash, expected.purpose, expected.accountId, expected.bound, now) as string | undefined;
      if (accountId === undefined) throw new AuthError('invalid_link');
      return accountId;
    }),
  };
}

function tokenOf(row: TokenRow): StoredAccountToken {
  return { purpose: row.purpose, accountId: row.account_id, collection: row.collection, bound: row.bound, expiresAt: row.expires_at, usedAt: row.used_at };
}

interface PendingRow { account_id: string; email: string; email_forms: string; name: string | null; password_hash: string; created_at: number }

/** `pending_conversions` in SQLite; the address's stored forms are a JSON array. */
export function createSqlitePendingConversionStore(db: Database.Database): PendingConversionStore {
  const forAccount = createAccountWrite(db);
  const find = db.prepare('SELECT * FROM pending_conversions WHERE account_id = ?');
  const save = db.prepare(`INSERT INTO pending_conversions (account_id, email, email_forms, name, password_hash, created_at)
    VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (account_id) DO UPDATE SET email = excluded.email, email_forms = excluded.email_forms,
      name = excluded.name, password_hash = excluded.password_hash, created_at = excluded.created_at`);
  const remove = db.prepare('DELETE FROM pending_conversions WHERE account_id = ?');

  return {
    async find(accountId) {
      const row = find.get(accountId) as PendingRow | undefined;
      return row ? pendingOf(row) : null;
    },
    save: (pending) => sqliteWrite(() => forAccount(pending.accountId, () => void save.run(
      pending.accountId, pending.email, JSON.stringify(pending.emailForms), pending.name, pending.passwordHash, pending.createdAt,
    ))),
    remove: (accountId) => sqliteWrite(() => void remove.run(accountId)),
  };
}

function pendingOf(row: PendingRow): PendingConversion {
  return {
    accountId: row.account_id, email: row.email, emailForms: JSON.parse(row.email_forms) as string[], name: row.name,
    passwordHash: row.password_hash, createdAt: row.created_at,
  };
}
