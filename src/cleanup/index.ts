export { parseCleanupArgs, USAGE, type CleanupCommand } from './args.ts';
export { CleanupError, exitStatus, type CleanupErrorCode } from './errors.ts';
export { acquireCleanupLock, withCleanupLock } from './lock.ts';
export { createProgressReporter } from './progress.ts';
export { seedGuests, type SeedOptions, type SeedSummary } from './seed-guests.ts';
export {
  deleteStaleGuests, type CleanupOptions, type CleanupProgress, type CleanupSummary, type CleanupWatch,
} from './stale-guests.ts';
export { openCleanupTarget, type CleanupTarget } from './target.ts';
export { formatSummary } from './summary.ts';
export { scheduleCleanup } from './schedule.ts';
