/**
 * Database busy: another process writing app.db and sessions.db (the cleanup job, or something
 * worse) while visitors become guests, fill carts and save their accounts. The server waits
 * for the lock (busy_timeout) instead of failing: no visitor sees a 500 or SQLITE_BUSY.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, ROOT, serverEnv, type ServerProcess, startServer, stopServer, tempDataDir } from './server-process.ts';

const WORKERS = 3;
/** Signed-in guests browsing as fast as they can: every page reads their session and writes it back. */
const BROWSERS = 4;

let server: ServerProcess | undefined;
let helper: ChildProcess | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  if (helper && helper.exitCode === null && helper.signalCode === null) helper.kill('SIGKILL');
  await stopServer(server);
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

interface Helper { child: ChildProcess; output(): string; exited: Promise<number | null>; started: Promise<void> }

/** Runs a TypeScript file of this repository as its own process; `started` resolves when it prints `marker`. */
function runHelper(file: string, args: string[], marker: RegExp): Helper {
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    cwd: ROOT, env: serverEnv(dataDir!), stdio: ['ignore', 'pipe', 'pipe'],
  });
  helper = child;
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (marker.test(output)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => (marker.test(output) ? resolve() : reject(new Error(`${file} exited early:\n${output}`))));
  });
  return { child, output: () => output, exited, started };
}

interface Outcome { saved: string[]; unexpected: string[]; slowestMs: number }

/** Visitors become guests, add to their cart and save their account, others browse, for as long as `busy()`. */
async function visitWhile(url: string, busy: () => boolean): Promise<Outcome> {
  const outcome: Outcome = { saved: [], unexpected: [], slowestMs: 0 };
  const expectStatus = async (what: string, status: number, send: () => Promise<{ status: number }>) => {
    const started = Date.now();
    const reply = await send();
    outcome.slowestMs = Math.max(outcome.slowestMs, Date.now() - started);
    if (reply.status !== status) outcome.unexpected.push(`${what}: ${reply.status}`);
    return reply.status === status;
  };
  const savers = Array.from({ length: WORKERS }, async (_, worker) => {
    for (let round = 0; busy() && round < 40; round++) {
      const client = new Client(url);
      const email = `busy-${worker}-${round}@example.com`;
      if (!await expectStatus('new guest', 302, () => client.request('/try'))) continue;
      if (!await expectStatus('add to cart', 303, () => client.submit('/products/candle', { productId: 'candle', quantity: '1' }))) continue;
      if (!await expectStatus('save account', 303, () => client.submit('/account', { action: 'convert-guest', email, password: 'correct horse battery' }))) continue;
      outcome.saved.push(email);
    }
  });
  const browsers = Array.from({ length: BROWSERS }, async () => {
    const client = new Client(url);
    await expectStatus('new guest', 302, () => client.request('/try'));
    for (let view = 0; busy() && view < 500; view++) {
      if (!await expectStatus('page view', 200, () => client.request(view % 2 ? '/cart' : '/products/candle'))) break;
    }
  });
  await Promise.all([...savers, ...browsers]);
  return outcome;
}

function savedAccounts(emails: string[]): number {
  const db = new Database(path.join(dataDir!, 'app.db'), { readonly: true });
  try {
    const saved = db.prepare('SELECT count(*) FROM users WHERE email = ? AND is_anonymous = 0 AND claimed_at IS NOT NULL').pluck();
    return emails.filter((email) => saved.get(email) === 1).length;
  } finally {
    db.close();
  }
}

function expectNoDatabaseErrors(output: string): void {
  expect(output).not.toMatch(/SQLITE_BUSY|database is locked|Error/);
}

describe('another process writing the database', () => {
  it('holding the write lock 200 ms at a time: every visitor is answered normally', async () => {
    dataDir = tempDataDir();
    server = await startServer(dataDir);
    const holder = runHelper('test/reliability/write-lock-holder.ts', [dataDir, '200', '10'], /holding/);
    await holder.started;
    let holding = true;
    void holder.exited.then(() => { holding = false; });

    const outcome = await visitWhile(server.url, () => holding);
    expect(await holder.exited).toBe(0);
    expect(outcome.unexpected).toEqual([]);
    expect(outcome.saved.length).toBeGreaterThanOrEqual(WORKERS);
    expect(savedAccounts(outcome.saved)).toBe(outcome.saved.length);
    expectNoDatabaseErrors(server.output());
  });

  it('the real cleanup removing 4,000 stale guests in batches of 100: every visitor is answered normally', async () => {
    dataDir = tempDataDir();
    const seed = runHelper('scripts/seed-guests.ts', ['--count', '4000', '--age', '60d'], /Seeded/);
    expect(await seed.exited, seed.output()).toBe(0);
    server = await startServer(dataDir);

    const cleanup = runHelper('scripts/cleanup.ts', ['--batch-size', '100'], /./);
    let cleaning = true;
    const cleanupExit = cleanup.exited.then((code) => { cleaning = false; return code; });
    const outcome = await visitWhile(server.url, () => cleaning);
    expect(await cleanupExit, cleanup.output()).toBe(0);

    expect(outcome.unexpected).toEqual([]);
    expect(outcome.saved.length).toBeGreaterThan(0);
    expect(savedAccounts(outcome.saved)).toBe(outcome.saved.length);
    const db = new Database(path.join(dataDir, 'app.db'), { readonly: true });
    try {
      const stale = db.prepare('SELECT count(*) FROM users WHERE is_anonymous = 1 AND last_active_at < ?').pluck();
      expect(stale.get(Date.now() - 30 * 86_400_000)).toBe(0);
    } finally {
      db.close();
    }
    expectNoDatabaseErrors(server.output());
  });
});
