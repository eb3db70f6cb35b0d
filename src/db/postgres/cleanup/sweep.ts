import pg from 'pg';
import type { Removal, SweepKind, Window } from '../../../cleanup/stale-guest-store.ts';
import type { Transactor } from '../../unit-of-work.ts';
import { EVENT_COLUMNS } from '../event-log.ts';
import { quotedTable } from '../identifiers.ts';
import { postgresWrite } from '../unit-of-work.ts';
import type { AccountReference } from './account-tables.ts';

/** A position in the walk over a collection's `<table>_stale_guests` index, oldest first. */
export interface Cursor { at: number; id: string }

export interface PreparedSweep {
  /** The next `limit` guests that match after `after`, oldest first; fewer once the window is done. */
  walk(after: Cursor, window: Window, limit: number): Promise<Cursor[]>;
  /** Deletes those of `ids` that still match and that no one else holds, in one short transaction. */
  remove(ids: readonly string[], window: Window, now: number): Promise<Removal>;
  /** What `remove` would do now, changing nothing (the dry run). */
  measure(ids: readonly string[], window: Window): Promise<Removal>;
}

/**
 * How long a batch may wait for a row lock a live request holds (a cascade reaching a session or
 * cart row in the middle of an update), and how often a batch that waited too long, or was
 * picked as a deadlock's victim, is tried again before the run gives up.
 */
const LOCK_TIMEOUT_MS = 2000;
const ATTEMPTS = 3;
const DEADLOCK_DETECTED = '40P01';
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * The statements for one collection and one kind. The rule is spliced into the walk and into the
 * DELETE, so the delete itself re-checks it: a guest that converts or comes back between the
 * walk and the delete no longer matches and stays.
 *
 * A batch first locks the guests' accounts and collection rows with `FOR UPDATE SKIP LOCKED`: a
 * guest that a live request (or another cleanup) is writing is skipped, never waited for; a row
 * changed since the statement began is read again at its latest and re-checked; and once
 * cleanup holds an account, no request can add a cart line, note, order or session for it
 * (their foreign key check waits). Then it deletes: the accounts row cascades to the collection
 * row, cart, notes and sessions, and sets the guest's orders' account_id to NULL (they keep
 * their shipping snapshot). The stale rule reads only the rows locked, so locking and deleting
 * are one statement. The bounced rule also reads other tables (owns nothing), which that
 * re-check does not read again: its delete is a second statement, whose snapshot is taken once
 * the locks are held, so it sees every row added for the guest until then.
 */
export function prepareSweep(
  pool: pg.Pool, transactor: Transactor, collection: string, kind: SweepKind, references: readonly AccountReference[],
): PreparedSweep {
  const table = quotedTable(collection);
  const detail = JSON.stringify({ reason: kind });
  // `last_active_at >= $2` as well as the row comparison: it is what lets the walk seek in the index.
  const walk = `SELECT g.last_active_at AS at, g.id FROM ${table} AS g
    WHERE ${ruleFor(kind, references, '$1')} AND g.last_active_at >= $2 AND (g.last_active_at, g.id) > ($2, $3)
    ORDER BY g.last_active_at, g.id LIMIT $4`;
  const locking = `SELECT g.id FROM ${table} AS g JOIN accounts AS a ON a.id = g.id
    WHERE g.id = ANY ($1::text[]) AND ${ruleFor('stale', [], '$2')} FOR UPDATE OF g, a SKIP LOCKED`;
  const matching = `SELECT g.id FROM ${table} AS g WHERE g.id = ANY ($1::text[]) AND ${ruleFor(kind, references, '$2')}`;
  // Counted in the statement's snapshot: the orders still name the guest there.
  const detachedOf = (ids: string) => references.filter((reference) => reference.detaches)
    .map((reference) => `(SELECT count(*) FROM ${reference.table} WHERE ${reference.column} IN (SELECT id FROM ${ids}))`)
    .join(' + ') || '0';
  const remove = `WITH doomed AS (${kind === 'stale' ? locking : matching}),
      gone AS (DELETE FROM accounts WHERE id IN (SELECT id FROM doomed) RETURNING id),
      logged AS (INSERT INTO auth_events (${EVENT_COLUMNS}) SELECT 'guest_deleted', id, $3, $4, $5::jsonb FROM gone)
    SELECT array(SELECT id FROM gone) AS removed, (${detachedOf('gone')})::int AS detached,
      (SELECT count(*) FROM sessions WHERE account_id IN (SELECT id FROM gone))::int AS sessions`;
  const measure = `WITH doomed AS (${matching}) SELECT array(SELECT id FROM doomed) AS removed, (${detachedOf('doomed')})::int AS detached`;

  const removeOnce = (ids: readonly string[], window: Window, now: number) => transactor.apply(postgresWrite(async (client) => {
    // A batch looks up at most a few thousand guests by key: index probes. Without this, on a
    // table of some 100,000 guests the planner picks a full scan of users and accounts per
    // batch (measured: twice as slow as the probes, and slower the bigger the table grows).
    await client.query(`SET LOCAL lock_timeout = ${LOCK_TIMEOUT_MS}; SET LOCAL enable_seqscan = off`);
    let targets = ids;
    if (kind === 'bounced') targets = (await client.query<{ id: string }>(locking, [ids, window.before])).rows.map((row) => row.id);
    if (targets.length === 0) return { removed: [], ordersDetached: 0, sessionsRemoved: 0 };
    const { rows } = await client.query<{ removed: string[]; detached: number; sessions: number }>(
      remove, [targets, window.before, collection, now, detail]);
    return { removed: rows[0]!.removed, ordersDetached: rows[0]!.detached, sessionsRemoved: rows[0]!.sessions };
  }));

  return {
    async walk(after, window, limit) {
      return (await pool.query<Cursor>(walk, [window.before, after.at, after.id, limit])).rows;
    },
    async remove(ids, window, now) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await removeOnce(ids, window, now);
        } catch (error) {
          if (attempt === ATTEMPTS || !isLockConflict(error)) throw error;
        }
      }
    },
    async measure(ids, window) {
      const { rows } = await pool.query<{ removed: string[]; detached: number }>(measure, [ids, window.before]);
      return { removed: rows[0]!.removed, ordersDetached: rows[0]!.detached };
    },
  };
}

function ruleFor(kind: SweepKind, references: readonly AccountReference[], before: string): string {
  const stale = `g.is_anonymous AND g.last_active_at < ${before}`;
  if (kind === 'stale') return stale;
  const ownsNothing = references.map((reference) => `NOT EXISTS (SELECT 1 FROM ${reference.table} WHERE ${reference.column} = g.id)`);
  return [stale, 'g.last_active_at = g.created_at', ...ownsNothing].join(' AND ');
}

function isLockConflict(error: unknown): boolean {
  return error instanceof pg.DatabaseError && (error.code === DEADLOCK_DETECTED || error.code === LOCK_NOT_AVAILABLE);
}
