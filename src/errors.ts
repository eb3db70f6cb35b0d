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
