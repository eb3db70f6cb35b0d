import type { Request, Response } from 'express';
import type { UnitOfWork } from '../db/unit-of-work.ts';
import { AppError, ProgrammingError } from '../errors.ts';
import { sameSiteRedirect } from '../http/same-site-paths.ts';

export interface FlashMessage { type: string; message: string }

/** Who the page is rendered for, as far as the page runtime needs to know (`request.auth`). */
export interface Visitor { readonly id: string; readonly isAnonymous: boolean }

declare module 'express-session' {
  interface SessionData { flash?: FlashMessage[] }
}

/**
 * A service call that returned a promise, handed to the template in its place: it notes when
 * the template looks at the outcome (`await`, `.then`, `.catch`), and the runtime settles it
 * before the render commits.
 */
class TrackedCall<T = unknown> implements PromiseLike<T> {
  observed = false;
  failure: { error: unknown } | undefined;
  readonly settled: Promise<void>;

  constructor(private readonly promise: Promise<T>) {
    this.settled = promise.then(() => {}, (error: unknown) => { this.failure = { error }; });
  }

  then<A = T, B = never>(onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    this.observed = true;
    return this.promise.then(onFulfilled, onRejected);
  }

  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<T | B> {
    return this.then(undefined, onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<T> {
    this.observed = true;
    return this.promise.finally(onFinally);
  }
}

/** What a render decided, read by the runtime once the template has run. */
export interface RenderOutcome {
  redirect: { location: string; status: number | undefined } | undefined;
  status: number | undefined;
  headers: ReadonlyArray<readonly [string, string]>;
  /** AppErrors helpers and services raised, caught by the template or not: they set the status. */
  raised: readonly Error[];
  notFound: boolean;
}

/**
 * One page render: what the template may change, recorded while it runs (helpers are
 * synchronous and must not throw for control flow) and read by the runtime afterwards, and the
 * render's unit of work. Helpers and plug-ins change it through its methods only.
 */
export class PageScope {
  readonly messages: FlashMessage[];
  #visitor: Visitor | null;
  #madeAccountId: string | undefined;
  #redirect: RenderOutcome['redirect'];
  #status: number | undefined;
  readonly #headers: Array<[string, string]> = [];
  readonly #raised: Error[] = [];
  #notFound = false;
  readonly #services = new Map<string, unknown>();
  readonly #calls: TrackedCall[] = [];

  constructor(readonly req: Request, readonly res: Response, readonly work: UnitOfWork, visitor: Visitor | null) {
    this.#visitor = visitor;
    this.messages = req.session?.flash ?? [];
    if (req.session?.flash) delete req.session.flash;
  }

  /** The signed-in visitor; it follows sign-ins made earlier in the same render. */
  get visitor(): Visitor | null { return this.#visitor; }
  /** `made`: the render made this account, with an id no one else can know (a new random guest). */
  setVisitor(visitor: Visitor | null, options: { made?: boolean } = {}): void {
    this.#visitor = visitor;
    if (visitor && options.made) this.#madeAccountId = visitor.id;
  }

  /**
   * Whether account `id` can own no rows yet: this render made it, with an id no one else knows,
   * and has committed nothing since; until it does, reads keyed by it (the new guest's notes and
   * cart, on the page that signed them in) would find nothing, and need not ask the database.
   */
  ownsNothingYet(id: string): boolean {
    return id === this.#madeAccountId && !this.work.applied;
  }

  redirect(location: string, status?: number): void {
    this.#redirect = { location: sameSiteRedirect(location), status };
  }

  setStatus(code: number): void { this.#status = code; }
  setHeader(name: string, value: string): void { this.#headers.push([name, value]); }
  markNotFound(): void { this.#notFound = true; }

  flash(type: string, message: string): void {
    (this.req.session.flash ??= []).push({ type, message });
  }

  /** Records an error a helper throws, so the page answers with its status even if the template catches it. */
  raise(error: AppError | ProgrammingError): never {
    this.#raised.push(error);
    throw error;
  }

  /**
   * Runs an async helper, remembering any AppError it throws. The call is tracked like a
   * service's: a template that forgets `await convertGuest(…)` still has it finished (and its
   * identity change applied) before the page answers.
   */
  guard<T>(work: () => Promise<T>): PromiseLike<T> {
    const running = (async () => {
      try {
        return await work();
      } catch (error) {
        if (error instanceof AppError) this.#raised.push(error);
        throw error;
      }
    })();
    return this.#track(running);
  }

  /** The request's instance of a service, made on first use. */
  service(name: string, make: () => object): unknown {
    if (!this.#services.has(name)) this.#services.set(name, this.#tracked(make()));
    return this.#services.get(name);
  }

  /**
   * The service with every call that returns a promise tracked: a template may leave one
   * un-awaited (seed 003's `cart.associateWithUser(id)`), and the runtime still finishes it, in
   * order, before it answers. A failure the template looked at (`await`, `.catch`) is its own
   * business; one it never looked at fails the render.
   */
  #tracked(service: object): object {
    // One wrapper per method, made on first use: a page calls `cart.lines()` several times.
    const wrappers = new Map<PropertyKey, unknown>();
    return new Proxy(service, {
      get: (target, key, receiver) => {
        const value: unknown = Reflect.get(target, key, receiver);
        if (typeof value !== 'function') return value;
        let wrapper = wrappers.get(key);
        if (!wrapper) {
          wrapper = (...args: unknown[]) => {
            const result: unknown = (value as (...args: unknown[]) => unknown).apply(target, args);
            return isPromise(result) ? this.#track(result) : result;
          };
          wrappers.set(key, wrapper);
        }
        return wrapper;
      },
    });
  }

  #track<T>(promise: Promise<T>): PromiseLike<T> {
    const call = new TrackedCall(promise);
    this.#calls.push(call);
    return call;
  }

  /** Waits for every tracked call; throws the first failure the template never looked at. */
  async settleCalls(): Promise<void> {
    for (let i = 0; i < this.#calls.length; i++) {
      const call = this.#calls[i]!;
      await call.settled;
      if (call.failure && !call.observed) throw call.failure.error;
    }
  }

  get outcome(): RenderOutcome {
    return { redirect: this.#redirect, status: this.#status, headers: this.#headers, raised: this.#raised, notFound: this.#notFound };
  }
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
