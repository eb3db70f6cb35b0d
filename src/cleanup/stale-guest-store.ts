/**
 * `stale`: guests idle since before the cutoff. `bounced`: guests created before the (sooner)
 * bounced cutoff that never came back after the request that created them and own no rows in
 * the app's tables: nothing of theirs would be lost.
 */
export type SweepKind = 'stale' | 'bounced';

/**
 * The `last_active_at` window a sweep covers: `from <= last_active_at < before`. Only `before`
 * is part of the rule the delete re-checks; `from` is where the walk starts, so the bounced
 * sweep does not visit again what the stale sweep already covered.
 */
export interface Window { from: number; before: number }

/** One pass of a run: the guests of one collection that match one kind's rule in one window. */
export interface Sweep { collection: string; kind: SweepKind; window: Window }

/** The guests a batch removed (or, in a dry run, would remove), and their orders detached and kept. */
export interface Removal {
  removed: string[];
  ordersDetached: number;
  /**
   * Sessions that went with the guests, in the same transaction, where sessions live beside the
   * accounts and cascade from them (PostgreSQL). Absent where they are removed afterwards, from
   * another database, through `noteSessions` and `removeNotedSessions` (SQLite).
   */
  sessionsRemoved?: number;
}

/**
 * What cleanup needs from storage: the guests of every auth collection, their sessions, and the
 * upkeep after each write. `deleteStaleGuests` drives it batch by batch; it holds the run's
 * snapshot of candidates and the sessions it noted, so one store serves one run at a time.
 * Every write is one short transaction, so a live server keeps serving next to it.
 * Implemented for SQLite in `src/db/sqlite/cleanup/stale-guest-store.ts`, for PostgreSQL in
 * `src/db/postgres/cleanup/stale-guest-store.ts`.
 */
export interface StaleGuestStore {
  /** Every auth collection the store holds (`config.collections`). */
  readonly collections: readonly string[];
  /**
   * Replaces the snapshot with the ids of the guests `sweep` matches now, read in steps of about
   * one batch's write each; resolves to how many there are.
   */
  snapshot(sweep: Sweep, batchSize: number): Promise<number>;
  /**
   * The next `limit` snapshotted ids after `after` (start from ''), in the order the store removes
   * them best in (SQLite: id order; PostgreSQL: oldest first, as the rows lie in the tables).
   */
  nextCandidates(after: string, limit: number): Promise<string[]>;
  /**
   * Deletes those of `ids` that still match `sweep`, with the rows that go with them (cart,
   * notes; orders are detached and kept), and records a `guest_deleted` event for each, in one
   * short write transaction (PostgreSQL: one per share of the batch, on two connections at
   * once). The delete re-checks the rule itself: a guest that converts or comes back after the
   * snapshot stays.
   */
  remove(sweep: Sweep, ids: readonly string[], now: number): Promise<Removal>;
  /** What `remove` would do now, changing nothing (the dry run). */
  measure(sweep: Sweep, ids: readonly string[]): Promise<Removal>;
  /** How many sessions these guests have (the dry run). */
  countSessions(ids: readonly string[]): Promise<number>;
  /**
   * Remembers the sessions of these just-removed guests, for `removeNotedSessions`. A store may
   * start removing them meanwhile, while the next guests go (SQLite: on a worker thread).
   */
  noteSessions(ids: readonly string[]): Promise<void>;
  /** How many sessions are noted, those already removed meanwhile included. */
  notedSessions(): Promise<number>;
  /**
   * Deletes up to `limit` of the noted sessions not yet visited, in one short write, skipping any
   * that no longer belong to the guest noted. Resolves to how many went (the first call also
   * counts those removed meanwhile), or null once every noted session has been visited.
   */
  removeNotedSessions(limit: number): Promise<number | null>;
  /** Call after each committed write: the store's own upkeep (SQLite: WAL checkpoints). */
  committed(): Promise<void>;
  /**
   * Forgets the snapshot and the noted sessions: the run is over. Resolves to how many noted
   * sessions the store removed meanwhile that no `removeNotedSessions` reported (a run stopped early).
   */
  forget(): Promise<number>;
  /** Resolves once every write so far is in the database files proper (SQLite: checkpointed). */
  drain(): Promise<void>;
  /** Drains, then closes the store's connections. */
  close(): Promise<void>;
}
