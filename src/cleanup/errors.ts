import { AppError } from '../errors.ts';

/**
 * What can stop a cleanup run that the operator can fix: a bad argument (exit 2, with the
 * usage text) or another run holding the lock (exit 1). Anything else is a bug or a broken
 * database and stays a plain `Error` (exit 1 with its message).
 */
export type CleanupErrorCode = 'invalid_argument' | 'locked';

export class CleanupError extends AppError<CleanupErrorCode> {
  constructor(code: CleanupErrorCode, message: string) {
    // Statuses only for completeness: cleanup answers with exit statuses (below), never over HTTP.
    super(code, message, { status: code === 'locked' ? 409 : 400 });
    this.name = 'CleanupError';
  }
}

// A Record, so that a new code without an exit status is a compile error.
const exitStatusOf: Record<CleanupErrorCode, number> = { invalid_argument: 2, locked: 1 };

/** The process exit status for an error: 2 for bad arguments, 1 for everything else. */
export function exitStatus(error: unknown): number {
  return error instanceof CleanupError ? exitStatusOf[error.code] : 1;
}
