/**
 * Conversion and login with bcrypt, and whether bcrypt stalls the pages: guests convert (GET
 * /try, then the "save your account" form), then the p99 of `GET /` under a light steady load is
 * measured alone and again while 20 logins run at once (each GET /login for the CSRF token, then
 * POST /login). Floor for conversions and logins: bcrypt hashes per second on one thread at the
 * same cost, which is what the app's one bcrypt worker can do at most.
 */
import crypto from 'node:crypto';
import bcrypt from 'bcryptjs';
import { failureRate, percentile, runLoad, startLoad } from '../load.ts';
import { log } from '../processes.ts';
import { row, type Row } from '../report.ts';
import { lightPageLoad, type BenchRun } from '../run.ts';
import { Visitor } from '../visitor.ts';

export const NAME = 'login-burst-p99';
const CONCURRENT_LOGINS = 20;
const CONVERTING_GUESTS = 4;
const PASSWORD = 'bench correct horse battery';

export async function loginBurst(run: BenchRun): Promise<Row[]> {
  const url = run.guestkit.url;
  const runId = crypto.randomBytes(4).toString('hex');
  log(`  conversions: ${CONVERTING_GUESTS} at once for ${run.seconds} s`);
  const accounts: string[] = [];
  const conversions = await repeatFor(CONVERTING_GUESTS, run.seconds, async () => {
    const email = `bench-${runId}-${accounts.length + 1}-${crypto.randomBytes(3).toString('hex')}@example.com`;
    const answer = await new Visitor(url).submit('/try', { action: 'convert-guest', email, password: PASSWORD });
    if (answer.status !== 303) return `POST /try (convert) answered ${answer.status}`;
    accounts.push(email);
  });
  if (accounts.length === 0) throw new Error(`no guest converted: ${conversions.firstError}`);
  const bcryptPerSecond = measureBcrypt(run.bcryptCost);

  log(`  GET / p99 without logins: ${run.seconds} s`);
  const baseline = await runLoad(lightPageLoad(url, run.seconds));
  log(`  GET / p99 during ${CONCURRENT_LOGINS} concurrent logins: ${run.seconds} s`);
  // The page load runs until the last login started before the deadline has finished.
  const pages = startLoad(lightPageLoad(url, run.seconds + 60));
  const logins = await repeatFor(CONCURRENT_LOGINS, run.seconds, async (attempt) => {
    const email = accounts[attempt % accounts.length]!;
    const answer = await new Visitor(url).submit('/login', { email, password: PASSWORD, next: '/' });
    if (answer.status !== 303) return `POST /login answered ${answer.status}`;
  });
  pages.stop();
  const burst = await pages.done;
  const pageFailures = Math.max(failureRate(baseline, [200]), failureRate(burst, [200]));
  const cost = `bcrypt cost ${run.bcryptCost}`;
  return [
    row({
      name: NAME, metric: 'p99 during logins', value: percentile(burst, 0.99), unit: 'ms (GET / at 100 req/s)',
      floor: percentile(baseline, 0.99), target: 'ratio ≤ 3 (floor: p99 without logins)', check: (_value, ratio) => ratio !== null && ratio <= 3,
      note: pageFailures > 0.001 ? `${(pageFailures * 100).toFixed(1)}% of page requests failed` : undefined,
    }),
    row({
      name: NAME, metric: 'conversions', value: conversions.done / conversions.seconds, unit: `conversions/s (${cost})`,
      floor: bcryptPerSecond, target: null, note: failedNote(conversions),
    }),
    row({
      name: NAME, metric: 'logins', value: logins.done / logins.seconds, unit: `logins/s (${cost}, ${CONCURRENT_LOGINS} at once)`,
      floor: bcryptPerSecond, target: null, note: failedNote(logins),
    }),
  ];
}

interface Repeated { done: number; failed: number; seconds: number; firstError: string | undefined }

/**
 * `workers` loops each start `attempt` again until `seconds` have passed, then finish the one in
 * flight. An attempt returns a message when it failed.
 */
async function repeatFor(workers: number, seconds: number, attempt: (n: number) => Promise<string | void>): Promise<Repeated> {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const result: Repeated = { done: 0, failed: 0, seconds: 0, firstError: undefined };
  let attempts = 0;
  await Promise.all(Array.from({ length: workers }, async () => {
    while (performance.now() < deadline) {
      const error = await attempt(attempts++).catch((caught: Error) => caught.message);
      if (error === undefined) result.done++;
      else {
        result.failed++;
        result.firstError ??= error;
      }
    }
  }));
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

/** Hashes per second of bcryptjs on this thread at `cost` (what one bcrypt worker can do). */
function measureBcrypt(cost: number): number {
  const started = performance.now();
  let hashes = 0;
  while (hashes < 20 && (hashes < 3 || performance.now() - started < 2_000)) {
    bcrypt.hashSync(PASSWORD, cost);
    hashes++;
  }
  return hashes / ((performance.now() - started) / 1000);
}

function failedNote(repeated: Repeated): string | undefined {
  return repeated.failed ? `${repeated.failed} failed (first: ${repeated.firstError})` : undefined;
}
