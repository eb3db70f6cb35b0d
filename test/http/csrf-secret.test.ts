/**
 * Where a form's CSRF secret lives: a visitor who has done nothing stores nothing. A page view's
 * forms get a token bound to a secret in the browser's own `gk.csrf` cookie, not a session row;
 * the secret moves to the session only once the session holds something (signed in, a cart).
 * Before this, every cookie-less view of a page with a form stored a session for 168 h: 10 s of
 * `GET /login` left 8,178 rows.
 *
 * The attacks below are a page on another site posting to ours, e.g.
 *   <form method="post" action="https://shop.example/login"><input name="_csrf" value="<token minted for the attacker's own browser>">…
 */
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sessionCount } from '../rows.ts';
import { BROWSER_UA, csrfTokenIn, startApp, type Browser, type TestApp } from '../support.ts';
import { becomeGuest, PASSWORD, register, SESSION_COOKIE } from '../visitors.ts';

const CSRF_COOKIE = 'gk.csrf';

/** A GET from a client that never keeps cookies (a crawler, a load generator, a first visit). */
function cookieLessGet(app: TestApp, path: string) {
  return request(app.server).get(path).set('User-Agent', BROWSER_UA);
}

function setCookieNames(response: request.Response): string[] {
  return ([] as string[]).concat(response.headers['set-cookie'] ?? []).map((line) => line.slice(0, line.indexOf('=')));
}

/** A browser that has opened `path` and holds only the CSRF cookie, and the token its form carried. */
async function visitorWithForm(app: TestApp, path = '/login'): Promise<{ browser: Browser; token: string }> {
  const browser = app.browser();
  const token = csrfTokenIn((await browser.get(path)).text);
  if (!token) throw new Error(`no CSRF token on ${path}`);
  return { browser, token };
}

describe('cookie-less page views', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startApp(); });
  afterAll(async () => { await app.close(); });

  it('leave no session row: 100 views each of /login and /register (each with its form) and of /', async () => {
    for (const path of ['/login', '/register', '/']) {
      for (let i = 0; i < 100; i++) {
        const page = await cookieLessGet(app, path);
        expect(page.status, path).toBe(200);
        expect(setCookieNames(page), path).not.toContain(SESSION_COOKIE);
      }
    }
    expect(csrfTokenIn((await cookieLessGet(app, '/login')).text)).toBeDefined();
    expect(await sessionCount(app)).toBe(0);
  });

  it('give the form a token with its secret in an HttpOnly, SameSite=Lax gk.csrf cookie for the whole site', async () => {
    const page = await cookieLessGet(app, '/login');
    const line = ([] as string[]).concat(page.headers['set-cookie'] ?? []).find((cookie) => cookie.startsWith(`${CSRF_COOKIE}=`));
    expect(line).toBeDefined();
    expect(line).toMatch(/; Path=\/(;|$)/);
    expect(line).toMatch(/; HttpOnly(;|$)/);
    expect(line).toMatch(/; SameSite=Lax(;|$)/);
    expect(line).not.toMatch(/; Domain=/i);
  });

  it('set the cookie once: a second view of the form reuses the browser\'s secret', async () => {
    const browser = app.browser();
    await browser.get('/login');
    const secret = browser.cookie(CSRF_COOKIE);
    expect(secret).toBeDefined();
    const again = await browser.get('/register');
    expect(setCookieNames(again)).not.toContain(CSRF_COOKIE);
    expect(browser.cookie(CSRF_COOKIE)).toBe(secret);
  });
});

describe('cookie-less views of /try once the guest rate limit is spent', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startApp({ GUEST_RATE_LIMIT: '2' }); });
  afterAll(async () => { await app.close(); });

  it('store no session beyond the guests created (429 with the page, no row)', async () => {
    for (let i = 0; i < 2; i++) expect((await cookieLessGet(app, '/try')).status).toBe(302);
    expect(await sessionCount(app)).toBe(2);
    for (let i = 0; i < 50; i++) expect((await cookieLessGet(app, '/try')).status).toBe(429);
    expect(await sessionCount(app)).toBe(2);
  });
});

describe('the form of a page viewed with no session', () => {
  let app: TestApp;
  beforeEach(async () => { app = await startApp(); });
  afterEach(async () => { await app.close(); });

  it('signs in (303), and then exactly one session exists', async () => {
    await register(app.browser(), 'owner@example.com');
    const before = await sessionCount(app);
    const { browser, token } = await visitorWithForm(app, '/login');
    expect(await sessionCount(app)).toBe(before);
    const response = await browser.post('/login', { _csrf: token, email: 'owner@example.com', password: PASSWORD });
    expect(response.status).toBe(303);
    expect(await sessionCount(app)).toBe(before + 1);
    expect((await browser.get('/account')).text).toContain('Signed in as <strong>owner@example.com</strong>');
  });

  it('registers (303), and then exactly one session exists', async () => {
    const { browser, token } = await visitorWithForm(app, '/register');
    expect(await sessionCount(app)).toBe(0);
    const response = await browser.post('/register', { _csrf: token, email: 'new@example.com', password: PASSWORD });
    expect(response.status).toBe(303);
    expect(await sessionCount(app)).toBe(1);
    expect((await browser.get('/account')).text).toContain('Signed in as <strong>new@example.com</strong>');
  });

  it('answers 403 and stores nothing with a token minted for another browser\'s cookie secret', async () => {
    await register(app.browser(), 'owner@example.com');
    const before = await sessionCount(app);
    const attacker = await visitorWithForm(app, '/login');
    const victim = await visitorWithForm(app, '/login');
    const response = await victim.browser.post('/login', { _csrf: attacker.token, email: 'owner@example.com', password: PASSWORD });
    expect(response.status).toBe(403);
    expect(response.text).toContain('This form has expired');
    expect(await sessionCount(app)).toBe(before);
    expect(victim.browser.cookie(SESSION_COOKIE)).toBeUndefined();
  });

  it('answers 403 with the token in the query string (?_csrf=), even when it is valid for the cookie', async () => {
    await register(app.browser(), 'owner@example.com');
    const { browser, token } = await visitorWithForm(app, '/login');
    const response = await browser.post(`/login?_csrf=${encodeURIComponent(token)}`, { email: 'owner@example.com', password: PASSWORD });
    expect(response.status).toBe(403);
    expect(browser.cookie(SESSION_COOKIE)).toBeUndefined();
  });

  it('answers 403 and stores nothing when the browser has neither a session nor a CSRF cookie (a forged first request)', async () => {
    const response = await app.browser().post('/register', { email: 'planted@example.com', password: PASSWORD });
    expect(response.status).toBe(403);
    expect(await sessionCount(app)).toBe(0);
    expect(setCookieNames(response)).not.toContain(SESSION_COOKIE);
  });
});

describe('a form in another tab', () => {
  let app: TestApp;
  beforeEach(async () => { app = await startApp(); });
  afterEach(async () => { await app.close(); });

  /** Opens the candle's add-to-cart form in one tab; returns a function that submits it later. */
  async function candleFormIn(browser: Browser): Promise<() => Promise<{ status: number }>> {
    const token = csrfTokenIn((await browser.get('/products/candle')).text)!;
    return () => browser.post('/products/candle', { _csrf: token, productId: 'candle', quantity: '1' });
  }

  it('rendered before signing in still submits after signing in', async () => {
    await register(app.browser(), 'owner@example.com');
    const browser = app.browser();
    const addCandle = await candleFormIn(browser);
    expect((await browser.submit('/login', { email: 'owner@example.com', password: PASSWORD })).status).toBe(303);
    expect((await addCandle()).status).toBe(303);
  });

  it('rendered before registering still submits after registering', async () => {
    const browser = app.browser();
    const addCandle = await candleFormIn(browser);
    await register(browser, 'new@example.com');
    expect((await addCandle()).status).toBe(303);
  });

  it('rendered while a guest still submits after the guest saves their account', async () => {
    const browser = app.browser();
    await becomeGuest(browser);
    const addCandle = await candleFormIn(browser);
    expect((await browser.submit('/account', { action: 'convert-guest', email: 'ada@example.com', password: PASSWORD })).status).toBe(303);
    expect((await addCandle()).status).toBe(303);
  });

  it('rendered while signed in is refused (403) after signing out: that secret was the account\'s', async () => {
    const browser = app.browser();
    await register(browser, 'owner@example.com');
    const addCandle = await candleFormIn(browser);
    expect((await browser.submit('/logout')).status).toBe(303);
    expect((await addCandle()).status).toBe(403);
  });
});
