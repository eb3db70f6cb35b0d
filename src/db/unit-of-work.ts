/**
 * The storage side of a page render. Stores never write on their own: each write method returns
 * a `Write`, a description of the change, and a unit of work applies the writes of one render
 * inside one transaction, in the order they were made. That is what lets a synchronous template
 * helper (`signInAnonymously()`) queue a guest now and have it reach any database later, and what
 * makes a render that fails leave nothing behind.
 */

declare const resultOf: unique symbol;

/** A write a store prepared; applying it (in a transaction) yields `T`. Opaque outside its backend. */
export interface Write<T = void> {
  readonly [resultOf]?: T;
}

/**
 * The writes of one page render. Queued writes wait for `commit()`; a write the page awaits
 * (`run`) is applied at once, together with everything queued before it, because the page needs
 * its outcome to go on (an order that could not be placed, an email already taken). So every
 * write reaches the database in the order it was made, and none without those made before it.
 */
export interface UnitOfWork {
  /** Queues `write` for the next commit. */
  defer(write: Write<unknown>): void;
  /**
   * Runs `effect` once the writes queued so far are committed, never if they are discarded: for
   * what must change only with them (the session cart, emptied once its lines are stored).
   */
  afterCommit(effect: () => void): void;
  /**
   * Applies the queued writes, `write` and `alongside` in one transaction, after any earlier
   * `run` of this unit has settled, and resolves to `write`'s result. When it fails, nothing of
   * that transaction stays and the queued writes are queued again.
   */
  run<T>(write: Write<T>, ...alongside: ReadonlyArray<Write<unknown>>): Promise<T>;
  /** Waits for every `run` to settle, then applies the queue in one transaction. */
  commit(): Promise<void>;
  /** Drops the queue: the render failed, so none of it may reach the database. */
  discard(): void;
}

/** Where units of work come from: one backend's transactions. */
export interface Transactor {
  begin(): UnitOfWork;
  /** One write in a transaction of its own, for work outside a page render. */
  apply<T>(write: Write<T>): Promise<T>;
}
