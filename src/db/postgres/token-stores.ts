import type pg from 'pg';
import { AuthError } from '../../auth/errors.ts';
import type { AccountTokenStore, PendingConversion, PendingConversionStore, StoredAccountToken } from '../../auth/stores.ts';
import { forAccount } from './errors.ts';
import { postgresWrite } from './unit-of-work.ts';

const DROP_SPENT = `DELETE FROM account_tokens
  WHERE account_id = $1 AND purpose = $2 AND (used_at IS NOT NULL OR expires_at <= $3)`;
const INSERT_TOKEN = `INSERT INTO account_tokens (hash, purpose, account_id, bound, expires_at, used_at, created_at)
  VALUES ($1, $2, $3, $4, $5, NULL, $6)`;
const FIND_TOKEN = `SELECT t.purpose, t.account_id AS "accountId", a.collection, t.bound, t.expires_at AS "expiresAt", t.used_at AS "usedAt"
  FROM account_tokens t JOIN accounts a ON a.id = t.account_id WHERE t.hash = $1`;
// Every condition in the one UPDATE. Two racing redemptions: the second waits for the first's row
// lock, then re-reads the row (READ COMMITTED), finds used_at set and matches nothing.
const CONSUME_TOKEN = `UPDATE account_tokens SET used_at = $1
  WHERE hash = $2 AND purpose = $3 AND account_id = $4 AND bound = $5 AND used_at IS NULL AND expires_at > $1
  RETURNING account_id AS "accountId"`;

/** `account_tokens` in PostgreSQL. */
export function createPostgresAccountTokenStore(pool: pg.Pool): AccountTokenStore {
  return {
    issue: (token) => postgresWrite(async (client) => {
      await client.query(DROP_SPENT, [token.accountId, token.purpose, token.now]);
      await forAccount(token.accountId, () => client.query(INSERT_TOKEN,
        [token.hash, token.purpose, token.accountId, token.bound, token.expiresAt, token.now]));
    }),

    find: async (hash) => (await pool.query<StoredAccountToken>(FIND_TOKEN, [hash])).rows[0] ?? null,

    consume: (hash, expected, now) => postgresWrite(async (client) => {
      const { rows } = await client.query<{ accountId: string }>(CONSUME_TOKEN,
        [now, hash, expected.purpose, expected.accountId, expected.bound]);
      if (!rows[0]) throw new AuthError('invalid_link');
      return rows[0].accountId;
    }),
  };
}

const PENDING_COLUMNS = `account_id AS "accountId", email, email_forms AS "emailForms", name,
  password_hash AS "passwordHash", created_at AS "createdAt"`;
const SAVE_PENDING = `INSERT INTO pending_conversions (account_id, email, email_forms, name, password_hash, created_at)
  VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT (account_id) DO UPDATE SET email = excluded.email, email_forms = excluded.email_forms,
    name = excluded.name, password_hash = excluded.password_hash, created_at = excluded.created_at`;

/** `pending_conversions` in PostgreSQL; the address's stored forms are a text[]. */
export function createPostgresPendingConversionStore(pool: pg.Pool): PendingConversionStore {
  return {
    find: async (accountId) => (await pool.query<PendingConversion>(
      `SELECT ${PENDING_COLUMNS} FROM pending_conversions WHERE account_id = $1`, [accountId])).rows[0] ?? null,
    save: (pending) => postgresWrite(async (client) => void await forAccount(pending.accountId, () => client.query(SAVE_PENDING, [
      pending.accountId, pending.email, [...pending.emailForms], pending.name, pending.passwordHash, pending.createdAt,
    ]))),
    remove: (accountId) => postgresWrite(async (client) => void await client.query('DELETE FROM pending_conversions WHERE account_id = $1', [accountId])),
  };
}
