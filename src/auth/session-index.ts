import type { Db } from '../db/open.ts';

export type SessionIndex = ReturnType<typeof createSessionIndex>;

/**
 * Direct access to connect-sqlite3's `sessions` table, through the index on the account id
 * stored in each session (db/open.ts). express-session can only destroy the current session;
 * deleting an account or a stale guest must end all of theirs.
 */
export function createSessionIndex(sessionDb: Db) {
  const deleteForAccount = sessionDb.prepare(
    `DELETE FROM sessions WHERE json_extract(sess, '$.auth.id') = ?`);
  const deleteForAccounts = sessionDb.prepare(
    `DELETE FROM sessions WHERE json_extract(sess, '$.auth.id') IN (SELECT value FROM json_each(?))`);
  const purgeBatch = sessionDb.prepare(
    `DELETE FROM sessions WHERE rowid IN (SELECT rowid FROM sessions WHERE expired < ? LIMIT 1000)`);

  return {
    deleteForAccount: (id: string): number => deleteForAccount.run(id).changes,
    deleteForAccounts: (ids: readonly string[]): number => deleteForAccounts.run(JSON.stringify(ids)).changes,
    /** Removes expired sessions in small batches so the live server's writes are never held up long. */
    purgeExpired(now: number): number {
      let total = 0;
      for (;;) {
        const { changes } = purgeBatch.run(now);
        total += changes;
        if (changes < 1000) return total;
      }
    },
  };
}
