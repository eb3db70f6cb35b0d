import { setImmediate as nextTurn } from 'node:timers/promises';
import type { StaleGuestStore, Sweep, SweepKind } from '../../../cleanup/stale-guest-store.ts';
import { findAccountReferences } from './account-tables.ts';
import { createCandidateSet } from './candidates.ts';
import { sessionCounter } from './session-sweep.ts';
import { prepareSweep, type Cursor, type PreparedSweep } from './sweep.ts';
import { openCleanupTarget, type OpenTarget } from './target.ts';

// Ids copied per step of the snapshot, in batches: a read about as long as a batch's write.
const SNAPSHOT_BATCHES = 20;

/**
 * The stale guests of `DATA_DIR/app.db` and their sessions in `sessions.db`, on cleanup's own
 * connections with a background checkpointer (target.ts). Candidates are snapshotted into a temp
 * table and removed in id order (candidates.ts); their sessions are noted and deleted in rowid
 * order on a worker thread, beside the guest batches (session-sweep.ts): the measured design that
 * removes a million guests next to a live server.
 */
export function openSqliteStaleGuestStore(config: { dataDir: string; collections: readonly string[] }): StaleGuestStore {
  const target = openCleanupTarget(config);
  try {
    return storeOn(target);
  } catch (error) {
    // The checkpointer's worker would keep the process alive.
    void target.close().catch(() => {});
    throw error;
  }
}

function storeOn(target: OpenTarget): StaleGuestStore {
  const candidates = createCandidateSet(target.db);
  const countSessions = sessionCounter(target.sessionDb);
  const sweeper = target.sessionSweeper;
  const references = findAccountReferences(target.db, target.collections);
  const prepared = new Map<string, PreparedSweep>();
  // Each collection and kind is prepared once, on its first use.
  const statementsFor = ({ collection, kind }: { collection: string; kind: SweepKind }): PreparedSweep => {
    const key = JSON.stringify([collection, kind]);
    let sweep = prepared.get(key);
    if (!sweep) prepared.set(key, sweep = prepareSweep(target.db, collection, kind, references));
    return sweep;
  };

  return {
    collections: target.collections,
    async snapshot(sweep, batchSize) {
      const statements = statementsFor(sweep);
      candidates.clear();
      // Walks the partial index in steps, yielding between them, so a server's requests run in between.
      for (let cursor: Cursor | null = { at: sweep.window.from, id: '' }; cursor; await nextTurn()) {
        cursor = statements.copyNext(sweep.window, cursor, batchSize * SNAPSHOT_BATCHES);
      }
      return candidates.size();
    },
    nextCandidates: async (after, limit) => candidates.next(after, limit),
    remove: async (sweep: Sweep, ids, now) => statementsFor(sweep).remove(ids, sweep.window, now),
    measure: async (sweep: Sweep, ids) => statementsFor(sweep).measure(ids, sweep.window),
    countSessions: async (ids) => countSessions(ids),
    noteSessions: async (ids) => sweeper.note(ids),
    // The worker's background sweeps count as noted, and are reported by the first removal.
    notedSessions: async () => await sweeper.noted() + sweeper.removedMeanwhile(),
    async removeNotedSessions(limit) {
      const meanwhile = sweeper.takeRemovedMeanwhile();
      return meanwhile > 0 ? meanwhile : sweeper.removeNext(limit);
    },
    // After each write: hand the checkpoint to the worker.
    async committed() {
      target.checkpointer?.nudge();
      await target.checkpointer?.keepUp();
    },
    async forget() {
      candidates.clear();
      return sweeper.forget();
    },
    drain: async () => target.checkpointer?.drain(),
    close: () => target.close(),
  };
}
