/**
 * Cleanup at scale against a live server: stop guestkit, seed 1,000,000 stale guests with
 * sessions into its data dir (`npm run seed:guests`), start it again, then run `npm run cleanup
 * -- --json` while a light steady load measures page p99. Targets: 1M guests in under 60 s (the
 * quick run's 100k: under 6 s), page p99 under 50 ms while it runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { failureRate, percentile, runLoad, startLoad } from '../load.ts';
import { log, startChild, waitForExit } from '../processes.ts';
import { row, withoutFigure, type Row } from '../report.ts';
import { lightPageLoad, type BenchRun } from '../run.ts';
import { guestkitEnv, ROOT } from '../servers.ts';

export const NAME = 'cleanup';
const SECONDS_PER_MILLION = 60;
const P99_TARGET_MS = 50;

interface CleanupSummary { deleted: number; sessionsRemoved: number; seconds: number }

export async function cleanup(run: BenchRun): Promise<Row[]> {
  for (const script of ['scripts/cleanup.ts', 'scripts/seed-guests.ts']) {
    if (!fs.existsSync(path.join(ROOT, script))) return [withoutFigure(NAME, 'skipped', `skipped: ${script} not found`)];
  }
  const guests = run.quick ? 100_000 : 1_000_000;
  const env = guestkitEnv({ dataDir: run.guestkit.dataDir, secret: run.secret, bcryptCost: run.bcryptCost });
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
