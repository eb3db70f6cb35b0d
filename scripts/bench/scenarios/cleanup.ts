/**
 * Cleanup at scale against a live server: stop guestkit, seed 1,000,000 stale guests with
 * sessions into its store (`npm run seed:guests`: its data dir, or on PostgreSQL its
 * DATABASE_URL), start it again, then run `npm run cleanup -- --json` while a light steady load
 * measures page p99. Targets: 1M guests in under 60 s (the quick run's 100k: under 6 s), page p99
 * under 50 ms while it runs. On PostgreSQL, a script that still works on DATA_DIR only makes the
 * scenario say so, not fail.
 */
import fs from 'node:fs';
import path from 'node:path';
import { queryDatabase } from '../../support/postgres-cluster.ts';
import { failureRate, percentile, runLoad, startLoad } from '../load.ts';
import { log, startChild, waitForExit } from '../processes.ts';
import { row, withoutFigure, type Row } from '../report.ts';
import { lightPageLoad, type BenchRun } from '../run.ts';
import { guestkitEnv, ROOT, type GuestkitOptions } from '../servers.ts';

export const NAME = 'cleanup';
const SECONDS_PER_MILLION = 60;
const P99_TARGET_MS = 50;
/** The collection seed:guests fills by default. */
const COLLECTION = 'users';

interface CleanupSummary { deleted: number; sessionsRemoved: number; seconds: number }

export async function cleanup(run: BenchRun, options: GuestkitOptions): Promise<Row[]> {
  for (const script of ['scripts/cleanup.ts', 'scripts/seed-guests.ts']) {
    if (!fs.existsSync(path.join(ROOT, script))) return [withoutFigure(NAME, 'skipped', `skipped: ${script} not found`)];
  }
  const guests = run.quick ? 100_000 : 1_000_000;
  const env = guestkitEnv({ dataDir: run.guestkit.dataDir, secret: run.secret, bcryptCost: run.bcryptCost, env: options.env });
  const databaseUrl = run.guestkit.databaseUrl;
  if (databaseUrl && !await seedsPostgres(env, databaseUrl)) {
    return [notOnPostgresYet('npm run seed:guests writes no guest into DATABASE_URL (it seeds DATA_DIR only)')];
  }
  await run.guestkit.stop();
  log(`  seeding ${guests.toLocaleString('en-US')} stale guests`);
  const seedStarted = performance.now();
  await npmScript(['seed:guests', '--', '--count', String(guests), '--age', '60d'], env, run.quick ? 180 : 1_200);
  log(`  seeded in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s; restarting guestkit`);
  const server = await run.restartGuestkit();

  log(`  measuring GET / for ${run.seconds / 2} s before cleanup`);
  const baseline = await runLoad(lightPageLoad(server.url, run.seconds / 2));
  const limitSeconds = SECONDS_PER_MILLION * guests / 1_000_000;
  log('  npm run cleanup -- --json, with GET / at 100 req/s');
  const pages = startLoad(lightPageLoad(server.url, limitSeconds * 5 + 60));
  const started = performance.now();
  let stdout: string;
  try {
    stdout = await npmScript(['cleanup', '--', '--json'], env, limitSeconds * 5 + 30);
  } finally {
    pages.stop();
  }
  const wallSeconds = (performance.now() - started) / 1000;
  const during = await pages.done;
  const summary = parseSummary(stdout);
  if (databaseUrl && summary.deleted === 0 && await staleGuests(databaseUrl) >= guests) {
    return [notOnPostgresYet('npm run cleanup removed none of the guests seeded into DATABASE_URL (it cleans DATA_DIR only)')];
  }
  const notes = [
    summary.deleted < guests ? `deleted ${summary.deleted} of ${guests} seeded guests` : '',
    `${summary.sessionsRemoved.toLocaleString('en-US')} sessions removed; wall time with npm ${wallSeconds.toFixed(1)} s`,
    failureRate(during, [200]) > 0.001 ? `${(failureRate(during, [200]) * 100).toFixed(1)}% of page requests failed` : '',
  ].filter(Boolean).join('; ');
  return [
    row({
      name: NAME, metric: 'duration', value: summary.seconds, unit: `s for ${guests.toLocaleString('en-US')} guests`, floor: null,
      target: `< ${limitSeconds} s`, check: (value) => value < limitSeconds && summary.deleted >= guests, note: notes,
    }),
    row({
      name: NAME, metric: 'page p99 during', value: percentile(during, 0.99), unit: 'ms (GET / at 100 req/s)',
      floor: percentile(baseline, 0.99), target: `< ${P99_TARGET_MS} ms (floor: p99 before cleanup)`, check: (value) => value < P99_TARGET_MS,
    }),
  ];
}

function notOnPostgresYet(why: string): Row {
  return withoutFigure(NAME, 'skipped', `not available on postgres yet: ${why}`);
}

/**
 * Whether `npm run seed:guests` writes into DATABASE_URL: one probe guest, a day old (cleanup
 * keeps it), must appear there. A seeder that only knows DATA_DIR writes it into the data dir,
 * which nothing on Postgres reads.
 */
async function seedsPostgres(env: Record<string, string>, databaseUrl: string): Promise<boolean> {
  const before = await staleGuests(databaseUrl, 0);
  await npmScript(['seed:guests', '--', '--count', '1', '--age', '0d', '--no-sessions', '--cart-ratio', '0', '--json'], env, 120);
  return await staleGuests(databaseUrl, 0) > before;
}

/** Guests in the seeded collection last active more than `olderThanDays` ago (default: what --age 60d seeds). */
async function staleGuests(databaseUrl: string, olderThanDays = 59): Promise<number> {
  const cutoff = Date.now() - olderThanDays * 86_400_000;
  const [counted] = await queryDatabase<{ n: number }>(databaseUrl,
    `SELECT count(*)::int AS n FROM "${COLLECTION}" WHERE is_anonymous AND last_active_at <= $1`, [cutoff]);
  return counted!.n;
}

/** Runs `npm run <args>` (its own process group) and returns its stdout; fails on a non-zero exit. */
async function npmScript(args: string[], env: Record<string, string>, timeoutSeconds: number): Promise<string> {
  const child = startChild('npm', ['run', '--silent', ...args], { cwd: ROOT, env, group: true });
  const code = await waitForExit(child, timeoutSeconds * 1000);
  if (code !== 0) throw new Error(`npm run ${args[0]} exited with ${code}:\n${child.output()}`);
  return child.stdout();
}

function parseSummary(stdout: string): CleanupSummary {
  const json = stdout.slice(stdout.indexOf('{'), stdout.lastIndexOf('}') + 1);
  try {
    const summary = JSON.parse(json) as Partial<CleanupSummary>;
    if (typeof summary.deleted === 'number' && typeof summary.seconds === 'number') {
      return { deleted: summary.deleted, seconds: summary.seconds, sessionsRemoved: summary.sessionsRemoved ?? 0 };
    }
  } catch {
    // reported below
  }
  throw new Error(`npm run cleanup -- --json printed no summary:\n${stdout.slice(0, 2000)}`);
}
