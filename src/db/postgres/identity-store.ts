import type pg from 'pg';
import { IdentityError } from '../../auth/oidc/errors.ts';
import type { IdentityStore, LinkedIdentity } from '../../auth/stores.ts';
import { forAccount, isUniqueViolation } from './errors.ts';
import { postgresWrite } from './unit-of-work.ts';

const COLUMNS = 'provider, subject, account_id, email, email_verified, linked_at';
const FIND = `SELECT ${COLUMNS} FROM identities WHERE provider = $1 AND subject = $2`;
const LIST_FOR = `SELECT ${COLUMNS} FROM identities WHERE account_id = $1 ORDER BY linked_at, provider, subject`;
const INSERT = `INSERT INTO identities (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)`;

interface Row { provider: string; subject: string; account_id: string; email: string | null; email_verified: boolean; linked_at: number }

/** `identities` in PostgreSQL. */
export function createPostgresIdentityStore(pool: pg.Pool): IdentityStore {
  return {
    async find(provider, subject) {
      const { rows } = await pool.query<Row>(FIND, [provider, subject]);
      return rows[0] ? toIdentity(rows[0]) : null;
    },

    listFor: async (accountId) => (await pool.query<Row>(LIST_FOR, [accountId])).rows.map(toIdentity),

    link: (identity) => postgresWrite(async (client) => {
      const values = [identity.provider, identity.subject, identity.accountId, identity.email, identity.emailVerified, identity.linkedAt];
      try {
        await forAccount(identity.accountId, () => client.query(INSERT, values));
      } catch (error) {
        if (isUniqueViolation(error)) throw new IdentityError('identity_in_use');
        throw error;
      }
    }),

    unlink: (accountId, provider, subject, hasPassword) => postgresWrite(async (client) => {
      // Postgres transactions overlap: two unlinks of an account's last two identities would each
      // count the other's row. Locking the account row makes the second wait for the first's
      // commit; its count, a statement after the wait, then sees one identity left.
      await client.query('SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE', [accountId]);
      const { rows } = await client.query<{ account_id: string; total: string }>(
        `SELECT i.account_id, (SELECT count(*) FROM identities WHERE account_id = $3) AS total
         FROM identities i WHERE i.provider = $1 AND i.subject = $2`, [provider, subject, accountId]);
      if (rows[0]?.account_id !== accountId) throw new IdentityError('not_linked');
      if (!hasPassword && Number(rows[0].total) <= 1) throw new IdentityError('last_sign_in_method');
      await client.query('DELETE FROM identities WHERE provider = $1 AND subject = $2', [provider, subject]);
    }),
  };
}

function toIdentity(row: Row): LinkedIdentity {
  return {
    provider: row.provider, subject: row.subject, accountId: row.account_id, email: row.email,
    emailVerified: row.email_verified, linkedAt: row.linked_at,
  };
}
