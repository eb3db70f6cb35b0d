import { afterEach, describe, expect, it } from 'vitest';
import { DAY, exists, isGuest, runCleanup, sessionsOf, useShop } from './harness.ts';
import { startServer, type ServerBrowser, type ServerChild } from './server.ts';

const t = useShop();
let server: ServerChild | undefined;
// Registered after useShop's, so it runs before it (hooks unwind like a stack): server stops, then the dir goes.
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** A visitor of /try: the page makes them a guest in `users`. Returns the guest's id. */
async function visitTry(browser: ServerBrowser): Promise<string> {
  const known = new Set(t.shop.db.prepare('SELECT id FROM users').pluck().all());
  const page = await browser.get('/try').redirects(1);
  expect(page.status).toBe(200);
  const id = (t.shop.db.prepare('SELECT id FROM users').pluck().all() as string[]).find((candidate) => !known.has(candidate));
  if (!id) throw new Error('no guest was created');
  return id;
}

function age(id: string, days: number): void {
  const at = Date.now() - days * DAY;
  t.shop.db.prepare('UPDATE users SET created_at = ?, last_active_at = ? WHERE id = ?').run(at, at, id);
}

describe('cleanup next to a running server', () => {
  it('keeps a guest that registers while cleanup runs, signed in, and removes the others', async () => {
    const app = server = await startServer(t.dataDir);
    const converting = app.browser();
    const leaving = app.browser();
    const convertingId = await visitTry(converting);
    const leavingId = await visitTry(leaving);
    age(convertingId, 40);
    age(leavingId, 40);
    expect(sessionsOf(t.shop, leavingId)).toBe(1);

    const summary = await runCleanup(t.dataDir, {}, {
      // After cleanup picked both guests, before it deletes anything: a real sign-up by one of them.
      async onProgress(progress) {
        if (progress.kind !== 'stale' || progress.collection !== 'users' || progress.done !== 0) return;
        expect(progress.total).toBe(2);
        const response = await converting.submit('/register', { email: 'late@example.com', password: 'correct horse battery', next: '/account' });
        expect(response.status).toBe(303);
      },
    });

    expect(summary.deleted).toBe(1);
    expect(t.shop.users.find('users', convertingId)).toMatchObject({ isAnonymous: false, email: 'late@example.com' });
    expect((await converting.get('/account')).text).toContain('late@example.com');
    expect(exists(t.shop.db, 'accounts', 'id', leavingId)).toBe(false);
    expect(sessionsOf(t.shop, leavingId)).toBe(0);
  });

  it('runs on its own every CLEANUP_INTERVAL when that is set', async () => {
    t.shop.guest(45);
    t.shop.guest(50, { collection: 'customers' });
    const fresh = t.shop.guest(1);
    const app = server = await startServer(t.dataDir, { CLEANUP_INTERVAL: '1s' });
    await app.waitFor(/Cleanup removed 2 stale guests/);
    expect(isGuest(t.shop, fresh)).toBe(true);
  });
});
