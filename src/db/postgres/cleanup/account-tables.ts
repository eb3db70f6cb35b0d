import type pg from 'pg';

/** A column of an app table that points at `accounts(id)`, both names quoted for SQL. */
export interface AccountReference {
  table: string;
  column: string;
  /** `ON DELETE SET NULL`: the rows stay, detached (orders); otherwise they go with the account. */
  detaches: boolean;
}

/**
 * Sessions point at the account they sign in: every guest has one, so a session is not data of
 * the guest's that `--bounced-after` must protect. They go with the account by cascade.
 */
const SESSIONS = 'sessions';

/**
 * The app's tables that hang off `accounts(id)`, read from the catalog's foreign keys rather
 * than listed here (as SQLite's cleanup reads them from its schema): a table the app adds later
 * (a wishlist) counts as the guest's own data for `--bounced-after` without cleanup having to
 * know about it. The auth collection tables reference accounts too, but they hold the guest
 * itself. `format('%I')` quotes each name as Postgres itself would.
 */
export async function findAccountReferences(db: pg.Pool | pg.ClientBase, collections: readonly string[]): Promise<AccountReference[]> {
  const { rows } = await db.query<AccountReference & { name: string }>(`
    SELECT format('%I.%I', n.nspname, t.relname) AS "table", quote_ident(a.attname) AS "column",
      t.relname AS name, c.confdeltype = 'n' AS detaches
    FROM pg_constraint c
    JOIN pg_class t ON t.oid = c.conrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
    WHERE c.contype = 'f' AND c.confrelid = 'accounts'::regclass
    ORDER BY 1, 2`);
  return rows.filter((row) => row.name !== SESSIONS && !collections.includes(row.name))
    .map(({ table, column, detaches }) => ({ table, column, detaches }));
}
