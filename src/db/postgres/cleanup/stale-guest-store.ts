import type pg from 'pg';
import type { StaleGuestStore, Sweep, SweepKind } from '../../../cleanup/stale-guest-store.ts';
import { migrate } from '../migrate.ts';
import { openFailure, openPool } from '../pool.ts';
import { createPostgresTransactor } from '../unit-of-work.ts';
import { findAccountReferences, type AccountReference } from './account-tables.ts';
import { createCandidateList } from './candidates.ts';
import { prepareSweep, type Cursor, type PreparedSweep } from './sweep.ts';

// Guests read per step of the snapshot, in batches: each step one short read.
const SNAPSHOT_BATCHES = 20;
/**
 * Transactions that remove one batch, at once, each on its own connection and with its share of
 * the batch. Deleting is CPU work in the server (six foreign keys fire per account), one core
 * per connection; two is what the 2-core machines we measure on have.
 */
const LANES = 2;

export interface PostgresCleanupConfig {
  databaseUrl: string;
  /** Connections at most; a run uses two at a time (LANES), or one with a pool of one. */
  databasePoolSize: number;
  /** Every auth collection the database holds (`config.collections`). */
  collections: readonly string[];
}

/**
 * The stale guests of the PostgreSQL database of DATABASE_URL, on a pool of cleanup's own. The
 * snapshot is a list of ids in this process (candidates.ts), oldest first, which is also the
 * order their rows were written in; each batch is split in two, and each share locks what it
 * removes with SKIP LOCKED and deletes it in one short transaction of its own (sweep.ts), both at
 * once. Sessions live in the same database and go with their account by cascade, so the session
 * phase of a run has nothing to do here.
 */
export async function openPostgresStaleGuestStore(config: PostgresCleanupConfig): Promise<StaleGuestStore> {
  const pool = openPool({ databaseUrl: config.databaseUrl, poolSize: config.databasePoolSize });
  try {
    // As the app does at start: a collection added to the config gets its table before it is cleaned.
    await migrate(pool, config.collections);
    const lanes = Math.min(LANES, config.databasePoolSize);
    return storeOn(pool, config.collections, await findAccountReferences(pool, config.collections), lanes);
  } catch (error) {
    await pool.end();
    throw openFailure(config.databaseUrl, error);
  }
}

function storeOn(pool: pg.Pool, collections: readonly string[], references: readonly AccountReference[], lanes: number): StaleGuestStore {
  const transactor = createPostgresTransactor(pool);
  const candidates = createCandidateList();
  const prepared = new Map<string, PreparedSweep>();
  // Each collection and kind is prepared once, on its first use.
  const statementsFor = ({ collection, kind }: { collection: string; kind: SweepKind }): PreparedSweep => {
    const key = JSON.stringify([collection, kind]);
    let sweep = prepared.get(key);
    if (!sweep) prepared.set(key, sweep = prepareSweep(pool, transactor, collection, kind, references));
    return sweep;
  };

  return {
    collections,
    async snapshot(sweep, batchSize) {
      const statements = statementsFor(sweep);
      const limit = batchSize * SNAPSHOT_BATCHES;
      candidates.clear();
      // Keyset steps over the partial index: no transaction or cursor held open between them.
      for (let after: Cursor = { at: sweep.window.from, id: '' }; ;) {
        const rows = await statements.walk(after, sweep.window, limit);
        candidates.add(rows.map((row) => row.id));
        if (rows.length < limit) return candidates.size();
        after = rows[rows.length - 1]!;
      }
    },
    nextCandidates: async (after, limit) => candidates.next(after, limit),
    async remove(sweep: Sweep, ids, now) {
      const statements = statementsFor(sweep);
      const removals = await Promise.all(sharesOf(ids, lanes).map((share) => statements.remove(share, sweep.window, now)));
      return {
        removed: removals.flatMap((removal) => removal.removed),
        ordersDetached: sum(removals.map((removal) => removal.ordersDetached)),
        sessionsRemoved: sum(removals.map((removal) => removal.sessionsRemoved ?? 0)),
      };
    },
    measure: (sweep: Sweep, ids) => statementsFor(sweep).measure(ids, sweep.window),
    async countSessions(ids) {
      const { rows } = await pool.query<{ count: number }>('SELECT count(*)::int AS count FROM sessions WHERE account_id = ANY ($1::text[])', [ids]);
      return rows[0]!.count;
    },
    // Sessions cascade from their account: they went with the batch (Removal.sessionsRemoved).
    noteSessions: async () => {},
    notedSessions: async () => 0,
    removeNotedSessions: async () => null,
    // Nothing to hand on after a commit: Postgres writes its WAL and checkpoints by itself.
    committed: async () => {},
    async forget() {
      candidates.clear();
      return 0; // sessions went with their guests, counted in each Removal
    },
    drain: async () => {},
    close: () => pool.end(),
  };
}

/** `ids` in up to `lanes` contiguous shares: each keeps neighbouring rows together. */
function sharesOf(ids: readonly string[], lanes: number): string[][] {
  const size = Math.max(1, Math.ceil(ids.length / lanes));
  const shares: string[][] = [];
  for (let start = 0; start < ids.length; start += size) shares.push(ids.slice(start, start + size));
  return shares;
}

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);
