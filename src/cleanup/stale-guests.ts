import { setImmediate as nextTurn } from 'node:timers/promises';
import { CleanupError } from './errors.ts';
import type { StaleGuestStore, SweepKind, Window } from './stale-guest-store.ts';

export interface CleanupOptions {
  /** Guests whose `last_active_at` is before this (Unix ms) are removed. */
  cutoff: number;
  /** Bounced guests created before this (Unix ms, later than `cutoff`) go too; null: off. */
  bouncedCutoff: number | null;
  /** The collections to clean: a subset of the store's. */
  collections: readonly string[];
  /** Count what would go and change nothing. */
  dryRun: boolean;
  /** Guests per write transaction. */
  batchSize: number;
}

/** Progress of one sweep; the last, `sessions`, deletes the removed guests' sessions. */
export interface CleanupProgress { collection: string; kind: SweepKind | 'sessions'; done: number; total: number }

export interface CleanupWatch {
  /** Called before the first batch of each sweep and after every batch. The run waits for a returned promise. */
  onProgress?(progress: CleanupProgress): void | Promise<void>;
  /** Aborting stops the run between batches (never inside one); the summary covers what was done. */
  signal?: AbortSignal;
}

/** What `--json` prints. In a dry run the counts are what would have gone. */
export interface CleanupSummary {
  dryRun: boolean;
  cutoff: string;
  collections: Record<string, { deleted: number }>;
  deleted: number;
  sessionsRemoved: number;
  ordersDetached: number;
  seconds: number;
}

interface Run {
  store: StaleGuestStore;
  options: CleanupOptions;
  watch: CleanupWatch;
  summary: CleanupSummary;
}

/**
 * Removes stale guests, batch by batch: each batch is one short write transaction on the app
 * database (accounts, by cascade their rows, and one `guest_deleted` event each). Then the
 * sessions of exactly the guests removed go, in batches on the session database (where sessions
 * cascade from the accounts, as on PostgreSQL, they went with their batch and none are noted).
 * Between batches it yields to the event loop, so the server can run this too.
 */
export async function deleteStaleGuests(
  store: StaleGuestStore, options: CleanupOptions, watch: CleanupWatch = {},
): Promise<CleanupSummary> {
  const started = performance.now();
  const unknown = options.collections.filter((name) => !store.collections.includes(name));
  if (unknown.length > 0) throw new CleanupError('invalid_argument', `unknown collection: ${unknown.join(', ')}`);
  const run: Run = {
    store, options, watch,
    summary: {
      dryRun: options.dryRun, cutoff: new Date(options.cutoff).toISOString(),
      collections: Object.fromEntries(options.collections.map((name) => [name, { deleted: 0 }])),
      deleted: 0, sessionsRemoved: 0, ordersDetached: 0, seconds: 0,
    },
  };
  try {
    for (const collection of options.collections) {
      for (const [kind, window] of windows(options)) {
        if (!watch.signal?.aborted) await sweepCollection(run, collection, kind, window);
      }
    }
    // Interrupted, the run stops at once: sessions of removed guests not yet deleted are inert
    // (their account is gone, so they sign no one in) and expire with SESSION_TTL_HOURS.
    if (!watch.signal?.aborted) run.summary.sessionsRemoved += await removeNotedSessions(run);
  } finally {
    run.summary.sessionsRemoved += await store.forget();
  }
  await store.drain();
  run.summary.seconds = Math.round(performance.now() - started) / 1000;
  return run.summary;
}

/** One collection, one kind: snapshot the matching ids, then remove (or count) them in id order. */
async function sweepCollection(run: Run, collection: string, kind: SweepKind, window: Window): Promise<void> {
  const { store, options, summary } = run;
  const sweep = { collection, kind, window };
  const progress: CleanupProgress = { collection, kind, done: 0, total: await store.snapshot(sweep, options.batchSize) };
  await run.watch.onProgress?.({ ...progress });
  for (let after = ''; !run.watch.signal?.aborted;) {
    const ids = await store.nextCandidates(after, options.batchSize);
    if (ids.length === 0) return;
    after = ids[ids.length - 1]!;
    const { removed, ordersDetached, sessionsRemoved } = options.dryRun
      ? await store.measure(sweep, ids) : await store.remove(sweep, ids, Date.now());
    // Only the sessions of guests actually removed: one that survived the re-check keeps its own.
    if (options.dryRun) summary.sessionsRemoved += await store.countSessions(removed);
    else {
      summary.sessionsRemoved += sessionsRemoved ?? 0;
      await store.noteSessions(removed);
    }
    summary.collections[collection]!.deleted += removed.length;
    summary.deleted += removed.length;
    summary.ordersDetached += ordersDetached;
    progress.done += ids.length;
    await run.watch.onProgress?.({ ...progress });
    await (options.dryRun ? nextTurn() : committed(store));
  }
}

/** Deletes the sessions noted while removing guests, batch by batch. */
async function removeNotedSessions(run: Run): Promise<number> {
  const { store, options: { batchSize } } = run;
  const progress: CleanupProgress = { collection: 'sessions', kind: 'sessions', done: 0, total: await store.notedSessions() };
  if (progress.total === 0) return 0;
  await run.watch.onProgress?.({ ...progress });
  let removed = 0;
  for (let went = await store.removeNotedSessions(batchSize); went !== null; went = await store.removeNotedSessions(batchSize)) {
    removed += went;
    // A step visits up to batchSize noted sessions (some may have gone already); a store that
    // removed sessions meanwhile reports them all at once.
    progress.done = Math.min(progress.total, progress.done + Math.max(went, batchSize));
    await run.watch.onProgress?.({ ...progress });
    await committed(store);
  }
  return removed;
}

/** After each write: the store's upkeep (the checkpoint handed to a worker), and let the event loop run. */
async function committed(store: StaleGuestStore): Promise<void> {
  await store.committed();
  await nextTurn();
}

/** Stale guests first; then, with `--bounced-after`, bounced ones idle since between the two cutoffs. */
function windows(options: CleanupOptions): Array<[SweepKind, Window]> {
  const stale: [SweepKind, Window] = ['stale', { from: Number.MIN_SAFE_INTEGER, before: options.cutoff }];
  if (options.bouncedCutoff === null || options.bouncedCutoff <= options.cutoff) return [stale];
  return [stale, ['bounced', { from: options.cutoff, before: options.bouncedCutoff }]];
}
