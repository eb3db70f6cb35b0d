/**
 * `npm run cleanup -- [options]`: removes stale guests (see src/cleanup/args.ts for the usage
 * text and the README's "Cleaning up stale guests"), from the PostgreSQL database of
 * DATABASE_URL when it is set, else from the SQLite files in DATA_DIR. Exit 0 done, 1 failed,
 * 2 bad arguments.
 */
import { ConfigError, loadConfig } from '../src/config.ts';
import { parseCleanupArgs, USAGE } from '../src/cleanup/args.ts';
import { exitStatus } from '../src/cleanup/errors.ts';
import { withCleanupLock } from '../src/cleanup/lock.ts';
import { createProgressReporter } from '../src/cleanup/progress.ts';
import type { StaleGuestStore } from '../src/cleanup/stale-guest-store.ts';
import { deleteStaleGuests, type CleanupOptions } from '../src/cleanup/stale-guests.ts';
import { formatSummary } from '../src/cleanup/summary.ts';
import { withPostgresCleanupLock } from '../src/db/postgres/cleanup/lock.ts';
import { openPostgresStaleGuestStore } from '../src/db/postgres/cleanup/stale-guest-store.ts';
import { openSqliteStaleGuestStore } from '../src/db/sqlite/cleanup/stale-guest-store.ts';

async function main(argv: readonly string[]): Promise<number> {
  const config = loadConfig(process.env);
  const command = parseCleanupArgs(argv, config, Date.now());
  if (command.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { options, json } = command;
  const { databaseUrl } = config;
  // Each backend its own lock: an advisory lock on the database, or the lock file in DATA_DIR.
  if (databaseUrl) {
    return withPostgresCleanupLock(databaseUrl, () => run(() => openPostgresStaleGuestStore({ ...config, databaseUrl }), options, json));
  }
  return withCleanupLock(config.dataDir, () => run(async () => openSqliteStaleGuestStore(config), options, json));
}

async function run(open: () => Promise<StaleGuestStore>, options: CleanupOptions, json: boolean): Promise<number> {
  const store = await open();
  const stop = new AbortController();
  const interrupt = () => stop.abort();
  process.once('SIGINT', interrupt).once('SIGTERM', interrupt);
  try {
    // With --json and no terminal (cron), stderr stays quiet unless something goes wrong.
    const progress = json && !process.stderr.isTTY ? undefined : createProgressReporter(process.stderr, options);
    const summary = await deleteStaleGuests(store, options, { onProgress: progress?.update, signal: stop.signal });
    progress?.finish();
    process.stdout.write(json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
    if (stop.signal.aborted) {
      process.stderr.write('cleanup: interrupted; the batches reported above were completed, the rest is untouched\n');
      return 1;
    }
    return 0;
  } finally {
    process.off('SIGINT', interrupt).off('SIGTERM', interrupt);
    await store.close();
  }
}

main(process.argv.slice(2)).then((status) => {
  process.exitCode = status;
}, (error: unknown) => {
  const status = error instanceof ConfigError ? 1 : exitStatus(error);
  process.stderr.write(`cleanup: ${(error as Error).message}\n`);
  if (status === 2) process.stderr.write(`\n${USAGE}`);
  process.exitCode = status;
});
