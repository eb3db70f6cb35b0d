import type { Removal, SweepKind, Window } from '../../../cleanup/stale-guest-store.ts';
import type { Db } from '../open.ts';
import { quoted, type AccountReference } from './account-tables.ts';
import { CANDIDATES } from './candidates.ts';
import { EVENT_COLUMNS } from '../event-log.ts';

/** A position in the walk over a collection's `<table>_stale_guests` index. */
export interface Cursor { at: number; id: string }

export interface PreparedSweep {
  /**
   * Copies the next `limit` guests that match after `after` (oldest first) into the candidate
   * table; returns the last one copied, or null once the window is exhausted.
   */
  copyNext(window: Window, after: Cursor, limit: number): Cursor | null;
  /** Deletes those of `ids` that still match, with their event rows, in one short write transaction. */
  remove(ids: readonly string[], window: Window, now: number): Removal;
  /** What `remove` would do now, changing nothing (the dry run). */
  measure(ids: readonly string[], window: Window): Removal;
}

/**
 * The statements for one collection and one kind, prepared once. The rule is spliced into
 * every statement, the DELETE included, so the delete itself re-checks it: a guest that
 * converts or comes back between the walk and the delete no longer matches and stays.
 */
export function prepareSweep(db: Db, collection: string, kind: SweepKind, references: readonly AccountReference[]): PreparedSweep {
  const table = quoted(collection);
  const rule = ruleFor(kind, references);
  const matching = `SELECT g.id FROM ${table} AS g WHERE g.id IN (SELECT value FROM json_each(:ids)) AND ${rule}`;
  const detaching = references.filter((reference) => reference.onDelete === 'SET NULL');
  const countDetached = detaching.length === 0 ? 'SELECT 0' : `SELECT ${detaching.map((reference) =>
    `(SELECT count(*) FROM ${quoted(reference.table)} WHERE ${quoted(reference.column)} IN (${matching}))`).join(' + ')}`;

  // Keyset pagination over the partial index (last_active_at, then the primary key): guests the
  // rule skips, or a dry run keeps, are passed over instead of being read again every batch.
  // (Spelled out with OR: with a row-value comparison SQLite seeks from the window's start on
  // every call, which makes the walk quadratic.)
  const after = '(g.last_active_at > :afterAt OR (g.last_active_at = :afterAt AND g.id > :afterId))';
  const upTo = '(g.last_active_at < :endAt OR (g.last_active_at = :endAt AND g.id <= :endId))';
  const chunkEnd = db.prepare(`SELECT g.last_active_at AS at, g.id FROM ${table} AS g
    WHERE ${rule} AND ${after} ORDER BY g.last_active_at, g.id LIMIT 1 OFFSET :offset`);
  // Straight from the index into the temp table: no row passes through JavaScript.
  const copy = db.prepare(`INSERT OR IGNORE INTO ${CANDIDATES} (id) SELECT g.id FROM ${table} AS g
    WHERE ${rule} AND ${after} AND ${upTo}`);
  const select = db.prepare(matching).pluck();
  const detached = db.prepare(countDetached).pluck();
  // Deleting the accounts row cascades to the collection row, the cart and notes, and sets the
  // guest's orders' account_id to NULL (they keep their shipping snapshot).
  const remove = db.prepare(`DELETE FROM accounts WHERE id IN (${matching}) RETURNING id`).pluck();
  const record = db.prepare(`INSERT INTO auth_events (${EVENT_COLUMNS})
    SELECT 'guest_deleted', value, :collection, :now, :detail FROM json_each(:ids)`);
  const detail = JSON.stringify({ reason: kind });

  return {
    copyNext(window, from, limit) {
      const bounds = { before: window.before, afterAt: from.at, afterId: from.id };
      const end = chunkEnd.get({ ...bounds, offset: limit - 1 }) as Cursor | undefined;
      copy.run({ ...bounds, endAt: end?.at ?? Number.MAX_SAFE_INTEGER, endId: end?.id ?? '' });
      return end ?? null;
    },
    remove(ids, window, now) {
      const json = JSON.stringify(ids);
      return db.transaction(() => {
        // Counted first, in the same transaction: once deleted, the orders no longer name the guest.
        const ordersDetached = detached.get({ before: window.before, ids: json }) as number;
        const removed = remove.all({ before: window.before, ids: json }) as string[];
        if (removed.length > 0) record.run({ collection, now, detail, ids: JSON.stringify(removed) });
        return { removed, ordersDetached };
      }).immediate();
    },
    measure(ids, window) {
      const json = JSON.stringify(ids);
      const params = { before: window.before, ids: json };
      return { removed: select.all(params) as string[], ordersDetached: detached.get(params) as number };
    },
  };
}

function ruleFor(kind: SweepKind, references: readonly AccountReference[]): string {
  const stale = 'g.is_anonymous = 1 AND g.last_active_at < :before';
  if (kind === 'stale') return stale;
  const ownsNothing = references.map((reference) =>
    `NOT EXISTS (SELECT 1 FROM ${quoted(reference.table)} WHERE ${quoted(reference.column)} = g.id)`);
  return [stale, 'g.last_active_at = g.created_at', ...ownsNothing].join(' AND ');
}
