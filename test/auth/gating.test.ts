import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../support.ts';
import { becomeGuest, PASSWORD, register, startFixtureApp, textOf } from '../visitors.ts';

let app: TestApp;
afterEach(async () => { await app.close(); });

describe('requireAuth() on the shop\'s pages', () => {
  it('sends a signed-out visit to /account to /login?next=%2Faccount, and back there after signing in', async () => {
    app = await startApp();
    await register(app.browser(), 'owner@example.com');
    const browser = app.browser();
    const gated = await browser.get('/account');
    expect(gated.status).toBe(302);
    expect(gated.headers.location).toBe('/login?next=%2Faccount');

    const login = await browser.get(gated.headers.location as string);
    expect(login.text).toContain('<input type="hidden" name="next" value="/account">');
    const signedIn = await browser.submit('/login', { email: 'owner@example.com', password: PASSWORD, next: '/account' }, '/login?next=%2Faccount');
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.location).toBe('/account');
  });

  it('keeps the path and query of a gated order page in next', async () => {
    app = await startApp();
    const gated = await app.browser().get('/orders/abc123?from=email');
    expect(gated.status).toBe(302);
    expect(gated.headers.location).toBe(`/login?next=${encodeURIComponent('/orders/abc123?from=email')}`);
  });

  it('lets a guest in', async () => {
    app = await startApp();
    const browser = app.browser();
    await becomeGuest(browser);
    const account = await browser.get('/account');
    expect(account.status).toBe(200);
    expect(account.text).toContain('You are a <strong>guest</strong>.');
  });
});

describe('requireRegistered()', () => {
  it('sends a signed-out visitor to sign in, a guest to register, and lets an account in', async () => {
    app = await startFixtureApp();
    const signedOut = await app.browser().get('/members');
    expect(signedOut.status).toBe(302);
    expect(signedOut.headers.location).toBe('/login?next=%2Fmembers');

    const guest = app.browser();
    await guest.get('/guest');
    const asGuest = await guest.get('/members');
    expect(asGuest.status).toBe(302);
    expect(asGuest.headers.location).toBe('/register?next=%2Fmembers');

    const member = app.browser();
    await member.submit('/signup', { email: 'member@example.com', password: PASSWORD });
    const asMember = await member.get('/members');
    expect(asMember.status).toBe(200);
    expect(textOf(asMember.text, 'member')).toBe('member@example.com');
  });
});

describe('next after signing in accepts same-site paths only', () => {
  const offSite = ['//evil.example', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '/\r\nLocation: https://evil.example'];

  for (const next of offSite) {
    it(`sends next=${JSON.stringify(next)} to /`, async () => {
      app = await startApp();
      await register(app.browser(), 'owner@example.com');
      const browser = app.browser();
      const response = await browser.submit('/login', { email: 'owner@example.com', password: PASSWORD, next }, '/login');
      expect(response.status).toBe(303);
      expect(response.headers.location).toBe('/');
    });
  }

  it('keeps a same-site path with its query', async () => {
    app = await startApp();
    await register(app.browser(), 'owner@example.com');
    const response = await app.browser().submit('/login', { email: 'owner@example.com', password: PASSWORD, next: '/cart?from=login' }, '/login');
    expect(response.headers.location).toBe('/cart?from=login');
  });

  it('ignores an off-site next in the login link too', async () => {
    app = await startApp();
    const page = await app.browser().get(`/login?next=${encodeURIComponent('//evil.example')}`);
    expect(page.text).toContain('<input type="hidden" name="next" value="/">');
  });
});
