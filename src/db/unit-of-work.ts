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
  /** Whether a transaction of this unit has reached the database (or found its racing twin's there). */
  readonly applied: boolean;
}

/**
 * Thrown by a write that finds its transaction already committed by a racing twin: the same form
 * posted twice at once (a double click), whose first request made the guest this one would make.
 * The transaction rolls back and counts as applied, so nothing is written twice (the cart the
 * session held is moved once) and the page goes on as the first one did.
 */
export class AlreadyApplied extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AlreadyApplied';
  }
}

/** Where units of work come from: one backend's transactions. */
export interface Transactor {
  begin(): UnitOfWork;
  /** One write in a transaction of its own, for work outside a page render. */
  apply<T>(write: Write<T>): Promise<T>;
}

/** One backend's transaction: applies `writes` in order, all or none, and resolves to their results. */
export type Transact = (writes: ReadonlyArray<Write<unknown>>) => Promise<unknown[]>;

/**
 * The unit of work every backend shares: the queue, the order of transactions and the failure
 * rules; `transact` is the backend's own BEGIN … COMMIT.
 */
export function createUnitOfWork(transact: Transact): UnitOfWork {
  let queue: Array<Write<unknown>> = [];
  let effects: Array<() => void> = [];
  let applied = false;
  // Transactions of one unit run one after another, in the order they were asked for: a commit
  // too, so a run asked for while the commit is in flight cannot overtake it.
  let chain: Promise<unknown> = Promise.resolve();
  const serialise = <T>(task: () => Promise<T>): Promise<T> => {
    const settled = chain.then(task);
    chain = settled.catch(() => {}); // the caller sees the failure; the next task still goes
    return settled;
  };

  /** Applies the queue and then `writes` in one transaction; resolves to `writes`' results. */
  async function applyQueue(writes: ReadonlyArray<Write<unknown>>): Promise<unknown[]> {
    const queued = queue;
    const waiting = effects;
    queue = [];
    effects = [];
    let results: unknown[];
    try {
      const all = [...queued, ...writes];
      // Only after-commit effects waiting: nothing to write, so no transaction (and no write lock).
      results = all.length === 0 ? [] : (await transact(all)).slice(queued.length);
      applied ||= all.length > 0;
    } catch (error) {
      if (error instanceof AlreadyApplied) {
        applied = true;
        for (const effect of waiting) effect();
        return writes.map(() => undefined);
      }
      // Not applied: they wait for the next commit, ahead of anything deferred meanwhile.
      queue = [...queued, ...queue];
      effects = [...waiting, ...effects];
      throw error;
    }
    for (const effect of waiting) effect();
    return results;
  }

  return {
    defer(write) { queue.push(write); },
    afterCommit(effect) { effects.push(effect); },
    run: <T>(write: Write<T>, ...alongside: ReadonlyArray<Write<unknown>>) =>
      serialise(async () => (await applyQueue([write, ...alongside]))[0] as T),
    commit: () => serialise(async () => {
      if (queue.length > 0 || effects.length > 0) await applyQueue([]);
    }),
    discard() {
      queue = [];
      effects = [];
    },
    get applied() { return applied; },
  };
}
