import type { Db } from '../open.ts';

export type SessionSweep = ReturnType<typeof prepareSessionSweep>;

const OF_ACCOUNTS = `json_extract(sess, '$.auth.id') IN (SELECT value FROM json_each(?))`;

/**
 * Removes the sessions of removed guests from connect-sqlite3's table, in two steps. While
 * guests are removed, their sessions are *noted* (rowid and account, found through the index
 * on the session's account id; a read). Afterwards the noted rows are deleted in rowid order:
 * the table and its expiry index are laid out in creation order, so neighbouring rows share
 * pages, where deleting them guest by guest would rewrite a random page for each one.
 * A noted row is deleted only if it still belongs to the removed guest (a rowid can be reused).
 */
export function prepareSessionSweep(sessionDb: Db) {
  sessionDb.pragma('temp_store = MEMORY');
  sessionDb.exec(`CREATE TEMP TABLE IF NOT EXISTS cleanup_sessions (rowid INTEGER PRIMARY KEY, account TEXT NOT NULL);
    DELETE FROM temp.cleanup_sessions;`);
  const count = sessionDb.prepare(`SELECT count(*) FROM main.sessions WHERE ${OF_ACCOUNTS}`).pluck();
  const note = sessionDb.prepare(`INSERT OR IGNORE INTO temp.cleanup_sessions (rowid, account)
    SELECT s.rowid, j.value FROM json_each(?) AS j JOIN main.sessions AS s ON json_extract(s.sess, '$.auth.id') = j.value`);
  const noted = sessionDb.prepare('SELECT count(*) FROM temp.cleanup_sessions').pluck();
  const upTo = sessionDb.prepare('SELECT rowid FROM temp.cleanup_sessions WHERE rowid > ? ORDER BY rowid LIMIT 1 OFFSET ?').pluck();
  const last = sessionDb.prepare('SELECT max(rowid) FROM temp.cleanup_sessions').pluck();
  const remove = sessionDb.prepare(`DELETE FROM main.sessions WHERE rowid IN
      (SELECT rowid FROM temp.cleanup_sessions WHERE rowid > :after AND rowid <= :upTo)
    AND json_extract(sess, '$.auth.id') = (SELECT account FROM temp.cleanup_sessions AS c WHERE c.rowid = sessions.rowid)`);
  const forget = sessionDb.prepare('DELETE FROM temp.cleanup_sessions');

  return {
    /** How many sessions these accounts have (the dry run). */
    count: (ids: readonly string[]): number => (ids.length === 0 ? 0 : count.get(JSON.stringify(ids)) as number),
    /** Remembers the sessions of these (just removed) accounts for `removeNext`. */
    note: (ids: readonly string[]): void => void (ids.length > 0 && note.run(JSON.stringify(ids))),
    noted: (): number => noted.get() as number,
    /**
     * Deletes up to `limit` noted sessions after rowid `after`, in one short statement.
     * Returns how many went and where to continue, or null when none are left.
     */
    removeNext(after: number, limit: number): { removed: number; next: number } | null {
      const end = (upTo.get(after, limit - 1) as number | undefined) ?? (last.get() as number | null);
      if (end === null || end <= after) return null;
      return { removed: remove.run({ after, upTo: end }).changes, next: end };
    },
    forget: (): void => void forget.run(),
  };
}
