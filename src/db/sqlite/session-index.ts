import type sqlite3 from 'sqlite3';
import type { SessionIndex } from '../../auth/stores.ts';

const PURGE_BATCH = 1000;

/**
 * Direct access to connect-sqlite3's `sessions` table through the store's own connection,
 * using the account index (open.ts SESSION_SCHEMA). express-session can only destroy the
 * current session; deleting an account must end all of them.
 */
export function createSessionIndex(db: sqlite3.Database): SessionIndex {
  const run = (sql: string, ...params: unknown[]) => new Promise<number>((resolve, reject) => {
    db.run(sql, params, function changed(this: sqlite3.RunResult, error: Error | null) {
      if (error) reject(error);
      else resolve(this.changes);
    });
  });

  return {
    deleteForAccount: (id) => run(`DELETE FROM sessions WHERE json_extract(sess, '$.auth.id') = ?`, id),
    async purgeExpired(now) {
      let total = 0;
      for (;;) {
        const changes = await run(`DELETE FROM sessions WHERE rowid IN
          (SELECT rowid FROM sessions WHERE expired < ? LIMIT ${PURGE_BATCH})`, now);
        total += changes;
        if (changes < PURGE_BATCH) return total;
      }
    },
  };
}
