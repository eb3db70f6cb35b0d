import type { Db } from '../open.ts';

/** A column of an app table that points at `accounts(id)`. */
export interface AccountReference {
  table: string;
  column: string;
  /** `CASCADE` rows go with the account; `SET NULL` rows stay, detached (orders). */
  onDelete: string;
}

/**
 * The app's tables that hang off `accounts(id)`, read from the schema's foreign keys rather
 * than listed here: a table the app adds later (a wishlist) counts as the guest's own data
 * for `--bounced-after` without cleanup having to know about it. The auth collection tables
 * reference accounts too, but they hold the guest itself, not its data.
 */
export function findAccountReferences(db: Db, collections: readonly string[]): AccountReference[] {
  const rows = db.prepare(`SELECT m.name AS "table", f."from" AS "column", f.on_delete AS onDelete
    FROM sqlite_schema AS m JOIN pragma_foreign_key_list(m.name) AS f
    WHERE m.type = 'table' AND f."table" = 'accounts' ORDER BY m.name`).all() as AccountReference[];
  return rows.filter((row) => !collections.includes(row.table));
}

/** Double-quotes an identifier read from the schema, so any name is safe to splice into SQL. */
export function quoted(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}
