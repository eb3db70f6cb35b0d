import { AccountGoneError } from '../../errors.ts';
import { isForeignKeyViolation } from './errors.ts';
import type { Db } from './open.ts';

/** Runs a write of rows that reference `accounts(id)` on behalf of one account. */
export type AccountWrite = <T>(accountId: string, write: () => T) => T;

/**
 * Translates, at the store's edge, the foreign-key failure of a write for an account that was
 * deleted meanwhile (cleanup runs in another process) into `AccountGoneError`. SQLite does not
 * say which reference failed, so the account row is looked up: any other failure stays a bug.
 */
export function createAccountWrite(db: Db): AccountWrite {
  const exists = db.prepare('SELECT 1 FROM accounts WHERE id = ?').pluck();
  return (accountId, write) => {
    try {
      return write();
    } catch (error) {
      if (isForeignKeyViolation(error) && exists.get(accountId) === undefined) throw new AccountGoneError(accountId);
      throw error;
    }
  };
}
