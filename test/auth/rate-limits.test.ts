import { afterEach, describe, expect, it } from 'vitest';
import { csrfTokenIn, startApp, type TestApp } from '../support.ts';
import { countRows, PASSWORD, startFixtureApp, textOf } from '../visitors.ts';

let app: TestApp;
afterEach(async () => { await app.close(); });

/** A new visitor opening /try (seed 003's try-before-you-buy), optionally behind a claimed proxy chain. */
function newVisitorOnTry(forwardedFor?: string) {
  const request = app.browser().get('/try');
  return forwardedFor ? request.set('X-Forwarded-For', forwardedFor) : request;
}

function expectRetryAfter(value: string | undefined): void {
  expect(Number(value)).toBeGreaterThanOrEqual(1);
  expect(Number(value)).toBeLessThanOrEqual(60);
}

describe('new guests per client IP (GUEST_RATE_LIMIT=3)', () => {
  it('answers 429 with Retry-After to the 4th new guest, even on /try where the template catches the error', async () => {
    app = await startApp({ GUEST_RATE_LIMIT: '3' });
    for (let i = 0; i < 3; i++) expect((await newVisitorOnTry()).status).toBe(302);
    const fourth = await newVisitorOnTry();
    expect(fourth.status).toBe(429);
    expectRetryAfter(fourth.headers['retry-after']);
    expect(fourth.text).toContain('Guest access is not available right now.');
    expect(countRows(app, 'users')).toBe(3);
  });

  it('allows 30 new guests per minute per IP by default', async () => {
    app = await startApp({ GUEST_RATE_LIMIT: '' });
    for (let i = 0; i < 30; i++) expect((await newVisitorOnTry()).status).toBe(302);
    expect((await newVisitorOnTry()).status).toBe(429);
  });

  it('shows the 429 page, with Retry-After, when the template does not catch the error', async () => {
    app = await startFixtureApp({ GUEST_RATE_LIMIT: '3' });
    for (let i = 0; i < 3; i++) expect((await app.browser().get('/guest-uncaught')).status).toBe(200);
    const fourth = await app.browser().get('/guest-uncaught');
    expect(fourth.status).toBe(429);
    expectRetryAfter(fourth.headers['retry-after']);
    expect(textOf(fourth.text, 'message')).toBe('Too many attempts from your network. Please wait a minute and try again.');
    expect(countRows(app, 'accounts')).toBe(3);
  });

  it('does not count visits that create no guest', async () => {
    app = await startApp({ GUEST_RATE_LIMIT: '3' });
    const returning = app.browser();
    expect((await returning.get('/try')).status).toBe(302);
    for (let i = 0; i < 5; i++) expect((await returning.get('/try')).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await app.browser().get('/')).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await newVisitorOnTry()).status).toBe(302);
    expect(countRows(app, 'users')).toBe(3);
  });

  it('is not bypassed by a spoofed X-Forwarded-For when TRUST_PROXY is unset', async () => {
    app = await startApp({ GUEST_RATE_LIMIT: '3' });
    for (let i = 0; i < 3; i++) expect((await newVisitorOnTry(`203.0.113.${i}`)).status).toBe(302);
    const spoofed = await newVisitorOnTry('198.51.100.77');
    expect(spoofed.status).toBe(429);
    expect(countRows(app, 'users')).toBe(3);
  });

  it('counts per forwarded client IP when TRUST_PROXY=loopback', async () => {
    app = await startApp({ GUEST_RATE_LIMIT: '3', TRUST_PROXY: 'loopback' });
    for (let i = 0; i < 3; i++) expect((await newVisitorOnTry('203.0.113.1')).status).toBe(302);
    expect((await newVisitorOnTry('203.0.113.1')).status).toBe(429);
    expect((await newVisitorOnTry('203.0.113.2')).status).toBe(302);
    expect(countRows(app, 'users')).toBe(4);
  });
});

describe('sign-in and sign-up attempts (LOGIN_RATE_LIMIT=3)', () => {
  async function logIn(email: string, password: string, forwardedFor?: string) {
    const browser = app.browser();
    const token = csrfTokenIn((await browser.get('/login')).text)!;
    const request = browser.post('/login', { _csrf: token, email, password });
    return forwardedFor ? request.set('X-Forwarded-For', forwardedFor) : request;
  }

  it('answers 429 with Retry-After after 3 attempts from one IP, even with the right password', async () => {
    app = await startApp({ LOGIN_RATE_LIMIT: '3' });
    await app.ctx.accounts.register(null, { email: 'owner@example.com', password: PASSWORD });
    for (const email of ['a@example.com', 'b@example.com', 'c@example.com']) {
      expect((await logIn(email, 'wrong password')).status).toBe(401);
    }
    const fourth = await logIn('owner@example.com', PASSWORD);
    expect(fourth.status).toBe(429);
    expectRetryAfter(fourth.headers['retry-after']);
    expect(fourth.text).toContain('Too many attempts from your network.');
  });

  it('answers 429 after 3 attempts on one account, whatever IP they come from', async () => {
    app = await startApp({ LOGIN_RATE_LIMIT: '3', TRUST_PROXY: 'loopback' });
    await app.ctx.accounts.register(null, { email: 'target@example.com', password: PASSWORD });
    for (let i = 1; i <= 3; i++) {
      expect((await logIn('Target@example.com', `guess number ${i}`, `203.0.113.${i}`)).status).toBe(401);
    }
    expect((await logIn('target@example.com', PASSWORD, '203.0.113.4')).status).toBe(429);
    expect((await logIn('nobody@example.com', 'some password', '203.0.113.5')).status).toBe(401);
  });

  it('counts registrations too', async () => {
    app = await startApp({ LOGIN_RATE_LIMIT: '3' });
    for (let i = 0; i < 3; i++) {
      expect((await app.browser().submit('/register', { email: `not-an-email-${i}`, password: PASSWORD })).status).toBe(422);
    }
    const fourth = await app.browser().submit('/register', { email: 'fine@example.com', password: PASSWORD });
    expect(fourth.status).toBe(429);
    expect(countRows(app, 'users')).toBe(0);
  });
});
