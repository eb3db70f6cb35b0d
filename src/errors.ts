/**
 * The base of every error a visitor can cause and fix: a stable `code` (for programs and the
 * status table in http/errors.ts), a readable `message` (for pages), and the form `field` it
 * concerns, if any. Bugs stay plain `Error`s and become 500 pages.
 */
export abstract class AppError<Code extends string = string> extends Error {
  constructor(readonly code: Code, message: string, readonly field?: string) {
    super(message);
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
