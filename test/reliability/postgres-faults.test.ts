/**
 * Faults with two app processes on one PostgreSQL (issue 14): one process killed with SIGKILL
 * under load, the database stopped for 5 s under load, and a database that is not there at
 * start. The load is shoppers behind a round-robin balancer (shoppers.ts); what the app answered
 * for must be in the database afterwards, and nothing may be half-written.
 */
import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startPostgres, type PostgresServer } from '../db/postgres/server.ts';
import { type AppProcesses, startAppProcesses } from './app-processes.ts';
import { Client, spawnServer, tempDataDir } from './server-process.ts';
import { type Answer, auditDatabase, INTACT, newLedger, PASSWORD, shop, until, type Ledger } from './shoppers.ts';

const SHOPPERS = 4;
/** Generous: a hang fails with the `until` that waited, not with the test's own timeout. */
const TIMEOUT_MS = 120_000;

let postgres: PostgresServer;
beforeAll(async () => { postgres = await startPostgres(); });
afterAll(async () => { await postgres?.stop(); });

let apps: AppProcesses | undefined;
let load: Load | undefined;
afterEach(async () => {
  await load?.stop();
  load = undefined;
  await apps?.close();
  apps = undefined;
});

interface Load { stop(): Promise<unknown> }

/** Shoppers sending each request to the next of `servers()`, until stopped. */
function startShopping(ledger: Ledger, servers: () => readonly string[]): Load {
  let done = false;
  const shoppers = Array.from({ length: SHOPPERS }, (_, shopper) => shop(ledger, shopper, { servers, done: () => done }));
  return { stop: () => { done = true; return Promise.all(shoppers); } };
}

/** A browser that made a guest and saved it as an account, on `url`. */
async function savedAccount(url: string, email: string): Promise<Client> {
  const browser = new Client(url);
  expect((await browser.request('/try')).status).toBe(302);
  expect((await browser.submit('/account', { action: 'convert-guest', email, password: PASSWORD })).status).toBe(303);
  return browser;
}

describe('one app process killed (SIGKILL) under load', () => {
  it('leaves the other serving every browser, and loses no order or conversion it answered for', async () => {
    const databaseUrl = await postgres.createDatabase();
    apps = await startAppProcesses(databaseUrl, 2);
    const [victim, survivor] = apps.servers as [typeof apps.servers[0], typeof apps.servers[0]];
    const regular = await savedAccount(victim.url, 'regular@example.com');
    let live: readonly string[] = apps.urls;
    const ledger = newLedger();
    load = startShopping(ledger, () => live);
    await until(() => ledger.conversions.length >= 4, 30_000, '4 conversions before the kill');

    victim.child.kill('SIGKILL');
    live = [survivor.url]; // the balancer takes the dead process out
    const beforeKill = ledger.conversions.length;
    await until(() => ledger.conversions.length >= beforeKill + 6, 30_000, '6 conversions after the kill');
    await load.stop();

    expect((await victim.exited).signal).toBe('SIGKILL');
    expect(survivor.child.exitCode).toBeNull();
    // Only requests the killed process had taken went unanswered; every answer was the right one.
    expect(ledger.unanswered.filter(({ server }) => server !== victim.url)).toEqual([]);
    expect(ledger.answers.filter(({ status, expected }) => status !== expected).map(({ path, status }) => `${path}: ${status}`)).toEqual([]);
    expect(await auditDatabase(databaseUrl, ledger)).toEqual(INTACT);
    // A visitor who signed in on the killed process is still signed in on the other one.
    const account = await regular.via(survivor.url).request('/account');
    expect(account.status).toBe(200);
    expect(account.text).toContain('regular@example.com');
  }, TIMEOUT_MS);
});

describe('PostgreSQL stopped for 5 s under load', () => {
  it('answers 503 with Retry-After and a readable page, serves again without a restart, and half-writes nothing', async () => {
    const databaseUrl = await postgres.createDatabase();
    apps = await startAppProcesses(databaseUrl, 2);
    const { urls, servers } = apps;
    const ledger = newLedger();
    load = startShopping(ledger, () => urls);
    await until(() => ledger.conversions.length >= 4, 30_000, '4 conversions before the outage');
    await postgres.pause();
    const stoppedAt = Date.now();
    const outageStart = ledger.answers.length;
    const answeredSince = (from: number, answered: (answer: Answer) => boolean) => (url: string) =>
      ledger.answers.slice(from).some((answer) => answer.server === url && answered(answer));
    await until(() => urls.every(answeredSince(outageStart, ({ status }) => status === 503)), 20_000, 'a 503 from each process');
    // The outage lasts its 5 s whatever the load did meanwhile (a wait, not an assertion).
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 5_000 - (Date.now() - stoppedAt))));
    await postgres.resume();

    const recoveryStart = ledger.answers.length;
    const conversionsBefore = ledger.conversions.length;
    await until(() => urls.every(answeredSince(recoveryStart, ({ status, expected }) => status === expected))
      && ledger.conversions.length >= conversionsBefore + 4, 30_000, 'both processes serving again');
    await load.stop();

    // The same processes, never restarted.
    for (const server of servers) expect(server.child.exitCode).toBeNull();
    expect(ledger.unanswered).toEqual([]);
    const unavailable = ledger.answers.filter(({ status }) => status === 503);
    for (const answer of unavailable) {
      expect(answer.retryAfter).toBe('5');
      expect(answer.text).toContain('Back in a moment');
      expect(answer.text).toContain('We cannot reach our database right now');
    }
    // Every other answer is the one a working app gives.
    expect(ledger.answers.filter(({ status, expected }) => status !== expected && status !== 503)
      .map(({ path, status }) => `${path}: ${status}`)).toEqual([]);
    expect(await auditDatabase(databaseUrl, ledger)).toEqual(INTACT);
  }, TIMEOUT_MS);
});

describe('an unreachable DATABASE_URL at start', () => {
  it('exits with status 1 and a message that names DATABASE_URL, without the password', async () => {
    const dataDir = tempDataDir();
    try {
      const url = `postgres://shop:s3cret-Pa55word@127.0.0.1:${await freePort()}/shop`;
      const server = spawnServer(dataDir, { DATABASE_URL: url });
      expect(await server.exited).toEqual({ code: 1, signal: null });
      expect(server.output()).toMatch(/DATABASE_URL \(postgres:\/\/shop:\*\*\*@127\.0\.0\.1:\d+\/shop\)/);
      expect(server.output()).not.toContain('s3cret-Pa55word');
      expect(server.output()).not.toContain('listening');
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
