import { scheduleCleanup } from './cleanup/schedule.ts';
import type { AppContext } from './context.ts';

const HOUR = 3_600_000;

/**
 * Background upkeep while the server runs: expired sessions are purged every hour
 * (connect-sqlite3 itself only purges at start and then daily), and with `CLEANUP_INTERVAL`
 * stale guests are removed that often (`npm run cleanup`, in a child process).
 */
export function startMaintenance(ctx: AppContext, log: (message: string) => void): () => void {
  const purge = () => ctx.sessions.index.purgeExpired(ctx.now()).then(
    (removed) => { if (removed > 0) log(`Purged ${removed} expired sessions`); },
    (error: Error) => log(`Session purge failed: ${error.message}`),
  );
  void purge();
  const timer = setInterval(purge, HOUR);
  timer.unref();
  const stopCleanup = ctx.config.cleanupIntervalMs > 0 ? scheduleCleanup(ctx.config, log) : () => {};
  return () => {
    clearInterval(timer);
    stopCleanup();
  };
}
