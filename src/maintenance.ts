import type { AppContext } from './context.ts';

const HOUR = 3_600_000;

/**
 * Background upkeep while the server runs: expired sessions are purged every hour
 * (connect-sqlite3 itself only purges at start and then daily).
 */
export function startMaintenance(ctx: AppContext, log: (message: string) => void): () => void {
  const purge = () => {
    try {
      const removed = ctx.sessionIndex.purgeExpired(ctx.now());
      if (removed > 0) log(`Purged ${removed} expired sessions`);
    } catch (error) {
      log(`Session purge failed: ${(error as Error).message}`);
    }
  };
  purge();
  const timer = setInterval(purge, HOUR);
  timer.unref();
  return () => clearInterval(timer);
}
