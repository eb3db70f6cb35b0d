/**
 * Sessions: none for a visitor who only reads, nor for one who is only shown a form; in production
 * a `__Host-` cookie that only travels over HTTPS; expired sessions purged by the server's hourly
 * upkeep (src/maintenance.ts).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Response } from 'supertest';
import { startMaintenance } from '../../src/maintenance.ts';
import { expireSession, insertExpiredSessions, sessionCount, sessionIdIn, storedSessions } from '../rows.ts';
import { csrfTokenIn, startApp, type Browser, type TestApp } from '../support.ts';
import { HTTPS, PRODUCTION_ENV, startFixtureSite, textOf } from '../pages/fixture-site.ts';


/** Stores something in this browser's session (a flash message, from the fixture's /flash form). */
async function withStoredSession(browser: Browser): Promise<Response> {
  const response = await browser.submit('/flash', { message: 'stored' });
  if (response.status !== 303) throw new Error(`POST /flash answered ${response.status}`);
  return response;
}

function setCookies(response: Response): string[] {
  return ([] as string[]).concat(response.headers['set-cookie'] ?? []);
}

/** The attributes of one Set-Cookie line: `{ name, value, path, secure, ... }` (lower-case keys). */
function cookieAttributes(line: string): Record<string, string | true> {
  const [pair, ...attributes] = line.split(';').map((part) => part.trim());
  const eq = pair!.indexOf('=');
  const parsed: Record<string, string | true> = { name: pair!.slice(0, eq), value: pair!.slice(eq + 1) };
  for (const attribute of attributes) {
    const [key, ...rest] = attribute.split('=');
    parsed[key!.toLowerCase()] = rest.length ? rest.join('=') : true;
  }
  return parsed;
}

describe('a visitor who only reads pages', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startFixtureSite(); });
  afterAll(async () => { await app.close(); });

  it('gets no cookie and no session row, over several pages without forms', async () => {
    const browser = app.browser();
    for (const url of ['/', '/about', '/users/ada', '/docs/guide', '/echo?q=1', '/no-such-page']) {
      const response = await browser.get(url);
      expect(setCookies(response), url).toEqual([]);
    }
    expect(await sessionCount(app)).toBe(0);
  });

  it('gets no session row when a page renders a POST form: its token\'s secret is in a gk.csrf cookie', async () => {
    const response = await app.browser().get('/form');
    expect(setCookies(response).map((line) => line.split('=')[0])).toEqual(['gk.csrf']);
    expect(await sessionCount(app)).toBe(0);
  });

  it('gets a session once something is stored in it (a flash message)', async () => {
    const response = await withStoredSession(app.browser());
    expect(setCookies(response).some((line) => line.startsWith('gk.sid='))).toBe(true);
    expect(await sessionCount(app)).toBe(1);
  });
});

describe('a signed-out visitor reading the shop', () => {
  let shop: TestApp;
  beforeAll(async () => { shop = await startApp(); });
  afterAll(async () => { await shop.close(); });

  it('finds no POST form on the home page, and gets no cookie and no session row', async () => {
    const response = await shop.browser().get('/');
    expect(response.status).toBe(200);
    expect(response.text).not.toMatch(/<form[^>]*method="?post/i);
    expect(setCookies(response)).toEqual([]);
    expect(await sessionCount(shop)).toBe(0);
  });
});

describe('the session cookie in production (behind an HTTPS proxy)', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startFixtureSite(PRODUCTION_ENV); });
  afterAll(async () => { await app.close(); });

  it('is __Host-gk.sid: Secure, HttpOnly, SameSite=Lax, Path=/ and no Domain', async () => {
    const browser = app.browser();
    const page = await browser.get('/flash').set(HTTPS);
    // The test client talks plain HTTP to the proxy's side, so its jar withholds a Secure
    // cookie: send it by hand, as the browser would over HTTPS.
    const response = await browser.agent.post('/flash').set(HTTPS).set('Cookie', setCookies(page)[0]!.split(';')[0]!)
      .set('User-Agent', browser.userAgent).type('form').send({ _csrf: csrfTokenIn(page.text)!, message: 'stored' });
    expect(response.status).toBe(303);
    const lines = setCookies(response);
    expect(lines).toHaveLength(1);
    const cookie = cookieAttributes(lines[0]!);
    expect(cookie.name).toBe('__Host-gk.sid');
    expect(cookie.secure).toBe(true);
    expect(cookie.httponly).toBe(true);
    expect(cookie.samesite).toBe('Lax');
    expect(cookie.path).toBe('/');
    expect(cookie).not.toHaveProperty('domain');
  });

  it('is not sent over plain HTTP, where a Secure cookie would be dropped anyway', async () => {
    const response = await app.browser().get('/form');
    expect(setCookies(response)).toEqual([]);
  });

  it('carries a form through: the token from an HTTPS page submits over HTTPS', async () => {
    const browser = app.browser();
    const page = await browser.get('/form').set(HTTPS);
    // The test client talks plain HTTP to the proxy's side, so its jar withholds a Secure
    // cookie: send it by hand, as the browser would over HTTPS.
    const cookie = setCookies(page)[0]!.split(';')[0]!;
    const response = await browser.agent.post('/form').set(HTTPS).set('Cookie', cookie).set('User-Agent', browser.userAgent)
      .type('form').send({ _csrf: csrfTokenIn(page.text)!, message: 'over https' });
    expect(response.status).toBe(200);
    expect(textOf(response.text, 'received')).toBe('Received: over https');
  });
});

describe('in development and test', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startFixtureSite(); });
  afterAll(async () => { await app.close(); });

  it('the cookie is gk.sid, HttpOnly and SameSite=Lax, without Secure, so it works on http://localhost', async () => {
    const cookie = cookieAttributes(setCookies(await withStoredSession(app.browser()))[0]!);
    expect(cookie.name).toBe('gk.sid');
    expect(cookie.httponly).toBe(true);
    expect(cookie.samesite).toBe('Lax');
    expect(cookie).not.toHaveProperty('secure');
  });
});

describe('expired sessions', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startFixtureSite(); });
  afterAll(async () => { await app.close(); });

  it('are purged by the server\'s upkeep, while live ones stay and keep working', async () => {
    const stale = app.browser();
    const live = app.browser();
    await withStoredSession(stale);
    await withStoredSession(live);
    expect(await sessionCount(app)).toBe(2);
    const staleId = sessionIdIn(stale.cookie('gk.sid')!);
    await expireSession(app, staleId, Date.now() - 1000);

    const logs: string[] = [];
    const stop = startMaintenance(app.ctx, (message) => logs.push(message));
    stop();

    await vi.waitFor(() => expect(logs).toEqual(['Purged 1 expired sessions']));
    expect((await storedSessions(app)).map(({ sid }) => sid)).not.toContain(staleId);
    expect(await sessionCount(app)).toBe(1);
    expect((await live.submit('/form', { message: 'still here' })).status).toBe(200);
  });

  it('are removed in batches: a backlog of 2,500 goes in one purge', async () => {
    await insertExpiredSessions(app, 2500, Date.now() - 60_000);
    const before = await sessionCount(app);
    expect(await app.ctx.sessions.index.purgeExpired(Date.now())).toBe(2500);
    expect(await sessionCount(app)).toBe(before - 2500);
  });
});
