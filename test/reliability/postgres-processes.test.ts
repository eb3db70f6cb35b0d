/**
 * Two app processes on one PostgreSQL (issue 14), as behind a load balancer: one browser whose
 * requests alternate between them sees one app. Sessions, CSRF tokens, guest limits and the
 * dedupe of racing guests hold across the processes, and `npm run cleanup` works beside them.
 * Both run with GUEST_RATE_LIMIT=30 and TRUST_PROXY=loopback; each spec's browsers come from an
 * address of their own (X-Forwarded-For), so one spec's guests do not count against another's.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuests } from '../../src/auth/guests.ts';
import { openPostgresStorage } from '../../src/db/postgres/storage.ts';
import { startPostgres, type PostgresServer } from '../db/postgres/server.ts';
import { type AppProcesses, SHARED_SECRET, startAppProcesses } from './app-processes.ts';
import { Client, guestIdOf, type Reply, ROOT, serverEnv, tempDataDir } from './server-process.ts';
import { PASSWORD } from './shoppers.ts';

const DAY = 86_400_000;

let postgres: PostgresServer;
let databaseUrl: string;
let apps: AppProcesses;
let db: pg.Pool;
let a: string;
let b: string;

beforeAll(async () => {
  postgres = await startPostgres();
  databaseUrl = await postgres.createDatabase();
  apps = await startAppProcesses(databaseUrl, 2, { GUEST_RATE_LIMIT: '30' });
  [a, b] = apps.urls as [string, string];
  db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
});
afterAll(async () => {
  await db?.end();
  await apps?.close();
  await postgres?.stop();
});

let addresses = 0;
/** A new browser on process A, from an address no other browser of this file uses. */
function newBrowser(): Client {
  return new Client(a, { forwardedFor: `198.51.100.${++addresses}` });
}

async function count(sql: string, ...params: unknown[]): Promise<number> {
  return Number((await db.query<{ count: string }>(sql, params)).rows[0]!.count);
}

function tokenIn(reply: Reply): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(reply.text)?.[1];
  if (!token) throw new Error(`no CSRF token in a ${reply.status} page`);
  return token;
}

describe('one browser, its requests alternating between two app processes', () => {
  it('makes a guest on A, adds to its cart on B, converts it on A and signs it out on B', async () => {
    const onA = newBrowser();
    const onB = onA.via(b);
    expect((await onA.request('/try')).status).toBe(302);
    const id = guestIdOf(onA);

    expect((await onB.submit('/products/candle', { productId: 'candle', quantity: '2' })).status).toBe(303);
    expect((await db.query('SELECT product_id, quantity FROM cart_items WHERE account_id = $1', [id])).rows)
      .toEqual([{ product_id: 'candle', quantity: 2 }]);
    expect((await onA.request('/cart')).text).toContain('href="/products/candle"');

    const converted = await onA.submit('/account', { action: 'convert-guest', email: 'alternating@example.com', password: PASSWORD });
    expect(converted.status).toBe(303);
    expect((await db.query('SELECT email, is_anonymous FROM users WHERE id = $1', [id])).rows)
      .toEqual([{ email: 'alternating@example.com', is_anonymous: false }]);
    expect((await onB.request('/account')).text).toContain('alternating@example.com');

    expect((await onB.submit('/logout', {})).location).toBe('/');
    const afterSignOut = await onA.request('/account');
    expect([afterSignOut.status, afterSignOut.location]).toEqual([302, '/login?next=%2Faccount']);
    expect(await count('SELECT count(*) FROM sessions WHERE account_id = $1', id)).toBe(0);
  });

  it('takes a form token from A at B: a visitor\'s before it has a session, and a guest\'s session token', async () => {
    const onA = newBrowser();
    const onB = onA.via(b);
    // No session yet: the token's secret is in the browser's own CSRF cookie, which any process can check it against.
    const visitorToken = tokenIn(await onA.request('/products/candle'));
    const added = await onB.request('/products/candle', { _csrf: visitorToken, productId: 'candle', quantity: '1' });
    expect([added.status, added.location]).toEqual([303, '/cart']);
    expect((await onA.request('/cart')).text).toContain('href="/products/candle"');

    // A guest: the secret is in the session, which lives in the database both processes read.
    expect((await onA.request('/try')).status).toBe(302);
    const sessionToken = tokenIn(await onA.request('/try'));
    const note = await onB.request('/try', { _csrf: sessionToken, action: 'add-note', body: 'written on B with the token from A' });
    expect([note.status, note.location]).toEqual([303, '/try']);
    expect((await onA.request('/try')).text).toContain('written on B with the token from A');

    // B checks the token, rather than taking anything: one from another browser is refused.
    const other = newBrowser();
    const othersToken = tokenIn(await other.request('/products/candle'));
    expect((await onB.request('/try', { _csrf: othersToken, action: 'add-note', body: 'forged' })).status).toBe(403);
  });
});

describe('new guests from one address, counted across both processes (GUEST_RATE_LIMIT=30)', () => {
  it('answers the 31st within a minute with 429 and Retry-After, whichever process it reaches', async () => {
    const guestsBefore = await count('SELECT count(*) FROM users');
    const address = '203.0.113.31';
    for (let i = 0; i < 30; i++) {
      const visitor = new Client(i % 2 ? b : a, { forwardedFor: address });
      expect((await visitor.request('/try')).status, `new guest ${i + 1}`).toBe(302);
    }
    for (const url of [a, b]) {
      const refused = await new Client(url, { forwardedFor: address }).request('/try');
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(refused.text).toContain('Guest access is not available right now.');
    }
    expect(await count('SELECT count(*) FROM users')).toBe(guestsBefore + 30);
    // The limit is per address: another one still gets its guest.
    expect((await newBrowser().via(b).request('/try')).status).toBe(302);
  });
});

describe('"Continue as Guest" clicked twice at once, one click reaching each process', () => {
  /** Posts the guest-checkout form of `token` to A and to B at the same moment. */
  async function raceGuestCheckout(browser: Client, token: string): Promise<Reply[]> {
    return Promise.all([a, b].map((url) => browser.via(url).request('/checkout', { _csrf: token, action: 'guest-checkout' })));
  }
  const resumeCookieOf = (reply: Reply) => reply.headers.getSetCookie().find((line) => line.startsWith('gk.resume='))?.split(';')[0];

  it('makes one guest for a browser with no session yet (the same form token)', async () => {
    const customersBefore = await count('SELECT count(*) FROM customers');
    const browser = newBrowser();
    const replies = await raceGuestCheckout(browser, tokenIn(await browser.request('/checkout')));
    expect(replies.map((reply) => [reply.status, reply.location])).toEqual([[303, '/checkout'], [303, '/checkout']]);
    expect(resumeCookieOf(replies[0]!)).toMatch(/^gk\.resume=customers\./);
    expect(resumeCookieOf(replies[1]!)).toBe(resumeCookieOf(replies[0]!));
    expect(await count('SELECT count(*) FROM customers')).toBe(customersBefore + 1);
  });

  it('makes one guest, with the cart on it, for a browser whose session holds a cart', async () => {
    const customersBefore = await count('SELECT count(*) FROM customers');
    const browser = newBrowser();
    expect((await browser.submit('/products/candle', { productId: 'candle', quantity: '3' })).status).toBe(303);
    const replies = await raceGuestCheckout(browser, tokenIn(await browser.via(b).request('/checkout')));
    expect(replies.map((reply) => reply.status)).toEqual([303, 303]);
    expect(resumeCookieOf(replies[1]!)).toBe(resumeCookieOf(replies[0]!));
    expect(await count('SELECT count(*) FROM customers')).toBe(customersBefore + 1);
    const id = guestIdOf(browser);
    expect((await db.query('SELECT product_id, quantity FROM cart_items WHERE account_id = $1', [id])).rows)
      .toEqual([{ product_id: 'candle', quantity: 3 }]);
  });
});

/** Writes `count` guests into `users` as the app does, last active `daysAgo` days ago. */
async function seedStaleGuests(total: number, daysAgo: number): Promise<void> {
  const storage = await openPostgresStorage({ databaseUrl, poolSize: 2, collections: ['users', 'customers'] }, () => Date.now() - daysAgo * DAY);
  try {
    const guests = createGuests({ accounts: storage.records, now: () => Date.now() - daysAgo * DAY, secret: SHARED_SECRET });
    const work = storage.transactor.begin();
    for (let i = 0; i < total; i++) guests.create(work, 'users');
    await work.commit();
  } finally {
    await storage.close();
  }
}

/** `npm run cleanup -- args` in a process of its own; resolves to its exit status and output. */
async function runCleanup(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // A machine of its own: nothing of the app's processes' data dirs, only the database.
  const dataDir = tempDataDir();
  const child = spawn('npm', ['run', '--silent', 'cleanup', '--', ...args], {
    cwd: ROOT, env: serverEnv(dataDir, { DATABASE_URL: databaseUrl }), stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  fs.rmSync(dataDir, { recursive: true, force: true });
  return { code, stdout, stderr };
}

describe('npm run cleanup in a third process while both serve', () => {
  it('removes the stale guests, and every request to either process is answered as usual meanwhile', async () => {
    const STALE = 2_000;
    await seedStaleGuests(STALE, 60);
    // Two stale guests of real browsers, with sessions, made on each process and aged in the database.
    const leaving = [newBrowser(), newBrowser().via(b)];
    for (const browser of leaving) expect((await browser.request('/try')).status).toBe(302);
    const leavingIds = leaving.map(guestIdOf);
    await db.query('UPDATE users SET created_at = $1, last_active_at = $1 WHERE id = ANY($2)', [Date.now() - 60 * DAY, leavingIds]);

    // Live shoppers, each its own guest, alternating between the processes from before cleanup
    // starts until after it has ended.
    let cleaning = true;
    const answers: string[] = [];
    const shoppers = Array.from({ length: 4 }, () => {
      const browser = newBrowser();
      const send = async (url: string, path: string, form?: Record<string, string>) => {
        const reply = await browser.via(url).request(path, form);
        answers.push(`${form ? 'POST' : 'GET'} ${path} ${reply.status}`);
        return reply;
      };
      const guest = send(a, '/try').then(() => guestIdOf(browser));
      const done = guest.then(async () => {
        for (let turn = 0; cleaning; turn++) {
          const [here, there] = turn % 2 ? [a, b] : [b, a];
          const token = tokenIn(await send(here, '/try'));
          await send(there, '/try', { _csrf: token, action: 'add-note', body: `note ${turn}` });
          await send(here, '/cart');
        }
      });
      return { guest, done };
    });
    const liveIds = await Promise.all(shoppers.map(({ guest }) => guest));
    const cleanup = await runCleanup(['--json', '--batch-size', '100']);
    cleaning = false;
    await Promise.all(shoppers.map(({ done }) => done));

    expect(cleanup.stderr).toBe('');
    expect(cleanup.code).toBe(0);
    expect(JSON.parse(cleanup.stdout)).toMatchObject({
      dryRun: false, deleted: STALE + 2, collections: { users: { deleted: STALE + 2 } }, sessionsRemoved: 2,
    });
    expect(answers.filter((answer) => !/ (200|302|303)$/.test(answer))).toEqual([]);
    expect(await count(`SELECT count(*) FROM users WHERE is_anonymous AND last_active_at < $1`, Date.now() - 30 * DAY)).toBe(0);
    expect(await count('SELECT count(*) FROM users WHERE id = ANY($1)', liveIds)).toBe(4);
    expect(await count('SELECT count(*) FROM sessions WHERE account_id = ANY($1)', leavingIds)).toBe(0);
    // A removed guest's browser is signed out, not shown an error.
    for (const browser of leaving) expect((await browser.request('/account')).location).toBe('/login?next=%2Faccount');
  });
});
