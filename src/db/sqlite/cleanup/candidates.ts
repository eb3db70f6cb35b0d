import type { Db } from '../open.ts';

export type CandidateSet = ReturnType<typeof createCandidateSet>;

/** The temp table sweeps copy matching ids into (sweep.ts). */
export const CANDIDATES = 'temp.cleanup_candidates';

/**
 * The ids a sweep will visit, snapshotted into a temp table so they can be deleted in primary
 * key order. Guest ids are random, so walking by `last_active_at` touches a different page of
 * every table and index for every guest; in id order neighbouring guests share pages, and each
 * write transaction rewrites a few dozen pages instead of thousands. The table is private to
 * this connection and lives in SQLite's temp store, not in app.db.
 */
export function createCandidateSet(db: Db) {
  db.pragma('temp_store = MEMORY');
  db.exec('CREATE TEMP TABLE IF NOT EXISTS cleanup_candidates (id TEXT PRIMARY KEY) WITHOUT ROWID');
  const clear = db.prepare('DELETE FROM temp.cleanup_candidates');
  const size = db.prepare('SELECT count(*) FROM temp.cleanup_candidates').pluck();
  const next = db.prepare('SELECT id FROM temp.cleanup_candidates WHERE id > ? ORDER BY id LIMIT ?').pluck();
  return {
    clear: (): void => void clear.run(),
    size: (): number => size.get() as number,
    /** The next `limit` ids after `after` (start from ''). */
    next: (after: string, limit: number): string[] => next.all(after, limit) as string[],
  };
}
