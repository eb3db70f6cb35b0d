export type CandidateList = ReturnType<typeof createCandidateList>;

/**
 * The ids a sweep will visit, kept in this process in the order the walk found them: oldest
 * first. Guests' rows were written in about that order (accounts, collection row and session
 * together, when the guest arrived; the collection row and session again at its last visit), so
 * neighbouring guests share table pages and a batch dirties a few dozen pages where id order
 * (random) would dirty one per guest. A million ids take about 50 MB, as SQLite's in-memory temp
 * table does; a temp table here would need one connection held for the whole run.
 */
export function createCandidateList() {
  let ids: string[] = [];
  // Where the last `next` ended, so continuing from its last id is not a search.
  let position = 0;
  return {
    add(more: readonly string[]): void {
      for (const id of more) ids.push(id);
    },
    size: (): number => ids.length,
    /** The next `limit` ids after `after` ('' to start), in walk order. */
    next(after: string, limit: number): string[] {
      const start = after === '' ? 0 : ids[position - 1] === after ? position : ids.indexOf(after) + 1;
      if (start === 0 && after !== '') throw new Error(`${after} is not a candidate of this sweep`);
      const batch = ids.slice(start, start + limit);
      position = start + batch.length;
      return batch;
    },
    clear(): void {
      ids = [];
      position = 0;
    },
  };
}
