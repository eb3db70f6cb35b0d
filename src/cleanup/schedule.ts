import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.ts';
import type { CleanupSummary } from './stale-guests.ts';

const CLI = fileURLToPath(new URL('../../scripts/cleanup.ts', import.meta.url));

/**
 * `CLEANUP_INTERVAL`: runs `scripts/cleanup.ts --json` that often, as a child process, on this
 * server's database (DATA_DIR's files, or DATABASE_URL's PostgreSQL). In the server's own
 * process the work would share its event loop, and cleanup's SQLite store opens sessions.db with
 * a second SQLite library, which must not share a process with the session store's node-sqlite3
 * connection (their POSIX locks do not see each other). The child takes the same lock as
 * `npm run cleanup` (the lock file, or the advisory lock on PostgreSQL), so a cron run and an
 * interval run never overlap, nor do the interval runs of several app processes on one
 * PostgreSQL. Returns a stop function that also interrupts a run in progress (it stops between
 * batches).
 */
export function scheduleCleanup(config: Readonly<Config>, log: (message: string) => void): () => void {
  const env = childEnv(config);
  let running: ChildProcess | null = null;
  const start = () => {
    if (running) return;
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), CLI, '--json'], {
      env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    running = child;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk; });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk; });
    child.on('close', (code) => {
      running = null;
      log(describeRun(code, stdout, stderr));
    });
  };
  const timer = setInterval(start, config.cleanupIntervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    running?.kill('SIGTERM');
  };
}

/** The child reads its configuration from the environment: this server's, whatever it was loaded from. */
function childEnv(config: Readonly<Config>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: config.env,
    DATA_DIR: config.dataDir,
    GUEST_COLLECTIONS: config.collections.join(','),
    GUEST_RETENTION_DAYS: String(config.guestRetentionDays),
  };
  if (config.sessionSecret) env.SESSION_SECRET = config.sessionSecret;
  // The same database as this server's: DATABASE_URL picks the child's backend too.
  if (config.databaseUrl) {
    env.DATABASE_URL = config.databaseUrl;
    env.DATABASE_POOL_SIZE = String(config.databasePoolSize);
  } else {
    delete env.DATABASE_URL;
  }
  return env;
}

function describeRun(code: number | null, stdout: string, stderr: string): string {
  if (code === 0) {
    let summary: CleanupSummary;
    try {
      summary = JSON.parse(stdout) as CleanupSummary;
    } catch {
      return `Cleanup finished, but its summary could not be read: ${stdout.slice(0, 200)}`; // never crash the server over a log line
    }
    return `Cleanup removed ${summary.deleted} stale guests (${summary.sessionsRemoved} sessions, `
      + `${summary.ordersDetached} orders detached and kept) in ${summary.seconds} s`;
  }
  const reason = stderr.trim().split('\n')[0]?.replace(/^cleanup: /, '') || `exit ${code}`;
  return `Cleanup skipped: ${reason}`;
}
