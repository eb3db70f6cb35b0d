/**
 * Abuse: guest accounts cost a row each, so minting them is rate-limited per client address and
 * never done for crawlers; password guessing is limited per address and per account. A client
 * cannot pick a fresh address with `X-Forwarded-For` unless the operator said a proxy sets it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countOf } from '../rows.ts';
import { type Browser, startApp, type TestApp } from '../support.ts';
import { PASSWORD, tokenFor, uniqueEmail } from './attack.ts';

const LIMIT = 3;
const guests = (app: TestApp) => countOf(app, 'accounts');

/** Submits the form at `path` as a client the proxy reports at `address`. */
async function submitFrom(browser: Browser, address: string, path: string, fields: Record<string, string>) {
  const token = await tokenFor(browser, path);
  return browser.post(path, { _csrf: token, ...fields }).set('X-Forwarded-For', address);
}

function expectRetryAfter(response: { status: number; headers: Record<string, string> }): void {
  expect(response.status).toBe(429);
  const seconds = Number(response.headers['retry-after']);
  expect(Number.isInteger(seconds) && seconds >= 1 && seconds <= 60, `Retry-After: ${response.headers['retry-after']}`).toBe(true);
}

describe('guest creation limit, no proxy trusted', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startApp({ GUEST_RATE_LIMIT: String(LIMIT) }); });
  afterAll(async () => { await app.close(); });

  it(`creates ${LIMIT} guests a minute per address, then answers 429 with Retry-After and creates none`, async () => {
    for (let i = 0; i < LIMIT; i++) expect((await app.browser().get('/try')).status).toBe(302);
    expect(await guests(app)).toBe(LIMIT);
    const limited = await app.browser().get('/try');
    expectRetryAfter(limited);
    expect(limited.text).toContain('Guest access is not available right now');
    expect(await guests(app)).toBe(LIMIT);
  });

  it('refuses guest checkout the same way once the limit is reached', async () => {
    const browser = app.browser();
    await browser.submit('/products/candle', { productId: 'candle', quantity: '1' });
    const response = await browser.submit('/checkout', { action: 'guest-checkout' });
    expectRetryAfter(response);
    expect(await guests(app)).toBe(LIMIT);
  });

  it('is not bypassed by a made-up X-Forwarded-For per request', async () => {
    for (let i = 1; i <= 5; i++) {
      const response = await app.browser().get('/try').set('X-Forwarded-For', `203.0.113.${i}`);
      expectRetryAfter(response);
    }
    expect(await guests(app)).toBe(LIMIT);
  });
});

describe('guest creation limit behind a trusted proxy (TRUST_PROXY=loopback)', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startApp({ GUEST_RATE_LIMIT: String(LIMIT), TRUST_PROXY: 'loopback' }); });
  afterAll(async () => { await app.close(); });

  it('counts each client address the proxy reports on its own', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await app.browser().get('/try').set('X-Forwarded-For', '198.51.100.7')).status).toBe(302);
    expectRetryAfter(await app.browser().get('/try').set('X-Forwarded-For', '198.51.100.7'));
    expect((await app.browser().get('/try').set('X-Forwarded-For', '198.51.100.8')).status).toBe(302);
    expect(await guests(app)).toBe(LIMIT + 1);
  });

  it('uses the address the proxy appended, not one the client put before it', async () => {
    // The client sends "X-Forwarded-For: <anything>"; the proxy appends the real address.
    for (let i = 1; i <= 3; i++) {
      expectRetryAfter(await app.browser().get('/try').set('X-Forwarded-For', `203.0.113.${i}, 198.51.100.7`));
    }
  });
});

describe('sign-in and sign-up limits', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startApp({ LOGIN_RATE_LIMIT: String(LIMIT), TRUST_PROXY: 'loopback' }); });
  afterAll(async () => { await app.close(); });

  it(`allows ${LIMIT} attempts a minute per address, then answers 429 with Retry-After, even for the right password`, async () => {
    const email = uniqueEmail('target');
    expect((await submitFrom(app.browser(), '198.51.100.10', '/register', { email, password: PASSWORD })).status).toBe(303);
    const attacker = app.browser();
    for (let i = 0; i < LIMIT; i++) {
      expect((await submitFrom(attacker, '198.51.100.20', '/login', { email: uniqueEmail('guess'), password: 'guess' })).status).toBe(401);
    }
    expectRetryAfter(await submitFrom(attacker, '198.51.100.20', '/login', { email, password: PASSWORD }));
    expectRetryAfter(await submitFrom(attacker, '198.51.100.20', '/register', { email: uniqueEmail('new'), password: PASSWORD }));
  });

  it('limits guesses at one account however many addresses they come from', async () => {
    const email = uniqueEmail('account');
    expect((await submitFrom(app.browser(), '198.51.100.30', '/register', { email, password: PASSWORD })).status).toBe(303);
    // Only wrong passwords count against the account: LIMIT guesses from new addresses use it up,
    // and then even the right password, from a browser that never signed in to it, is refused.
    for (let i = 1; i <= LIMIT; i++) {
      expect((await submitFrom(app.browser(), `203.0.113.${40 + i}`, '/login', { email, password: 'wrong guess' })).status).toBe(401);
    }
    const refused = await submitFrom(app.browser(), '203.0.113.60', '/login', { email, password: PASSWORD });
    expectRetryAfter(refused);
    expect(refused.text).toContain('Too many sign-in attempts for this account.');
  });
});

describe('login limit, no proxy trusted', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startApp({ LOGIN_RATE_LIMIT: String(LIMIT) }); });
  afterAll(async () => { await app.close(); });

  it('is not bypassed by a made-up X-Forwarded-For per request', async () => {
    const attacker = app.browser();
    for (let i = 1; i <= LIMIT; i++) {
      expect((await submitFrom(attacker, `203.0.113.${i}`, '/login', { email: uniqueEmail('guess'), password: 'guess' })).status).toBe(401);
    }
    expectRetryAfter(await submitFrom(attacker, '203.0.113.99', '/login', { email: uniqueEmail('guess'), password: 'guess' }));
  });
});

describe('crawlers', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startApp(); });
  afterAll(async () => { await app.close(); });

  const crawlers = [
    'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36',
    'curl/8.5.0',
    'Wget/1.21.4',
    'python-requests/2.31.0',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36',
  ];

  for (const userAgent of crawlers) {
    it(`mints no guest for ${userAgent.split(/[ /;]/).find((part) => /bot|curl|wget|python|headless/i.test(part)) ?? userAgent}`, async () => {
      const before = await guests(app);
      const crawler = app.browser();
      crawler.userAgent = userAgent;
      const page = await crawler.get('/try');
      expect(page.status).toBe(200);
      expect(page.headers['set-cookie'] ?? []).not.toEqual(expect.arrayContaining([expect.stringMatching(/^gk\.resume=/)]));
      await crawler.submit('/products/candle', { productId: 'candle', quantity: '1' });
      await crawler.submit('/checkout', { action: 'guest-checkout' });
      expect(await guests(app)).toBe(before);
    });
  }

  it('still mints one for a browser (the control)', async () => {
    const before = await guests(app);
    await app.browser().get('/try');
    expect(await guests(app)).toBe(before + 1);
  });
});
