/**
 * The base of every error a visitor can cause and fix: a stable `code` (for programs and the
 * status table in http/errors.ts), a readable `message` (for pages), and the form `field` it
 * concerns, if any. Bugs stay plain `Error`s and become 500 pages.
 *
 * One submitted form can break several rules at once (a bad email *and* a short password). The
 * error thrown is the first problem found, and `problems` lists all of them, so a form shows
 * every field's message in one go instead of one per submission.
 */
export interface AppErrorDetails {
  /** The HTTP status a page answers with when this error is raised. */
  status: number;
  /** The form field the error is about. */
  field?: string;
  /** For a limit: when to try again (the answer's `Retry-After`). */
  retryAfterSeconds?: number;
  /**
   * Whether a page that catches the error and renders on still answers with `status`. Most do
   * (a form re-rendered with a 422); "guest sign-in unavailable" does not, so a crawler sees a
   * page that handled it as a normal 200 page.
   */
  setsPageStatus?: boolean;
}

export abstract class AppError<Code extends string = string> extends Error {
  readonly #besides: AppError[] = [];
  readonly status: number;
  readonly field: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly setsPageStatus: boolean;

  constructor(readonly code: Code, message: string, details: AppErrorDetails) {
    super(message);
    this.status = details.status;
    this.field = details.field;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.setsPageStatus = details.setsPageStatus ?? true;
  }

  /** This problem and every other one found in the same submission, in the order found. */
  get problems(): readonly AppError[] {
    return [this, ...this.#besides];
  }

  /** The message for one form field, or null when that field is fine. */
  messageFor(field: string): string | null {
    return this.problems.find((problem) => problem.field === field)?.message ?? null;
  }

  /** Throws the first of `errors`, carrying the others; does nothing when there are none. */
  static throwAll(errors: readonly AppError[]): void {
    const [first, ...rest] = errors;
    if (!first) return;
    first.#besides.push(...rest);
    throw first;
  }
}

type Checks = Record<string, () => unknown>;

/**
 * Runs every check (each parses one field and throws an AppError when it is wrong), and throws
 * once with all the problems, or returns every field's parsed value.
 */
export function validateAll<T extends Checks>(checks: T): { [K in keyof T]: ReturnType<T[K]> } {
  const values: Record<string, unknown> = {};
  const problems: AppError[] = [];
  for (const [name, check] of Object.entries(checks)) {
    try {
      values[name] = check();
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      problems.push(error);
    }
  }
  AppError.throwAll(problems);
  return values as { [K in keyof T]: ReturnType<T[K]> };
}

/**
 * A page asked for something the app is not set up for (a collection that is not configured):
 * a bug in the page, not something the visitor can fix. The page answers 500 even when the
 * template catches it; `code` says what was wrong.
 */
export class ProgrammingError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'ProgrammingError';
  }
}

/**
 * A write for the signed-in account found no account row: cleanup (another process) deleted the
 * guest after this request was authenticated. Nobody's bug and nothing the visitor can fix: the
 * page runtime signs them out and loads the page again.
 */
export class AccountGoneError extends Error {
  constructor(readonly accountId: string) {
    super(`account ${accountId} was deleted during the request`);
    this.name = 'AccountGoneError';
  }
}

/**
 * The database could not be reached (its server stopped, the network dropped): nobody's bug and
 * nothing the visitor did. The page answers 503 with a Retry-After; its transaction never
 * committed, so nothing of the request is half-written. The backend raises this at its edge
 * (src/db/postgres/pool.ts), and reconnects by itself once the database is back.
 */
export class StorageUnavailableError extends Error {
  /** What the answer's Retry-After says: a restart or failover takes seconds. */
  readonly retryAfterSeconds = 5;

  constructor(cause: unknown) {
    super(`the database is unreachable: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'StorageUnavailableError';
  }
}

/** Eta wraps errors thrown in templates (with file and line); a helper's or store's error is the cause. */
export function findCause<T>(error: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  for (let current = error; current; current = (current as { cause?: unknown }).cause) {
    if (current instanceof type) return current;
  }
  return undefined;
}
