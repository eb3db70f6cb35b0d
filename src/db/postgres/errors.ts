import pg from 'pg';
import { AccountGoneError } from '../../errors.ts';

/** SQLSTATE codes the stores translate (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';

/** The references from app tables to accounts(id), named in migrations/002-shop.sql, 003-sessions.sql, 006-tokens.sql and 007-identities.sql. */
const ACCOUNT_REFERENCES = new Set(['cart_items_account', 'notes_account', 'orders_account', 'sessions_account',
  'account_tokens_account', 'pending_conversions_account', 'identities_account']);

export function isUniqueViolation(error: unknown): boolean {
  return error instanceof pg.DatabaseError && error.code === UNIQUE_VIOLATION;
}

/**
 * A row that references an account that is not there (deleted meanwhile, by cleanup in another
 * process). Postgres names the constraint that failed, so unlike SQLite no second look-up is
 * needed, and none could run: the failed statement has aborted the transaction.
 */
export function isMissingAccount(error: unknown): boolean {
  return error instanceof pg.DatabaseError && error.code === FOREIGN_KEY_VIOLATION
    && ACCOUNT_REFERENCES.has(error.constraint ?? '');
}

/**
 * Runs a statement that writes rows for `accountId`, translating at the store's edge the failure
 * of an account deleted meanwhile into AccountGoneError; any other failure stays the bug it is.
 */
export async function forAccount<T>(accountId: string, statement: () => Promise<T>): Promise<T> {
  try {
    return await statement();
  } catch (error) {
    if (isMissingAccount(error)) throw new AccountGoneError(accountId);
    throw error;
  }
}
