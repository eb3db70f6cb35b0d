import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isReplacedSession, sessionIdIn, storedSession } from '../rows.ts';
import { csrfTokenIn, startApp, type Browser, type TestApp } from '../support.ts';
import { becomeGuest, PASSWORD, register, sessionCookieOf, sessionSignsIn } from '../visitors.ts';

let app: TestApp;
beforeEach(async () => { app = await startApp(); });
afterEach(async () => { await app.close(); });

async function sessionRowExists(cookie: string): Promise<boolean> {
  return await storedSession(app, sessionIdIn(cookie)) !== undefined;
}

/** A signed-out visitor with a session: a product in their session cart (a form alone stores nothing). */
async function withSessionCart(browser: Browser): Promise<void> {
  expect((await browser.submit('/products/ember-mug', { productId: 'ember-mug', quantity: '1' })).status).toBe(303);
}

/** The browser's session cookie before and after `change`, which must have answered 303 with a new session id. */
async function aroundChange(browser: Browser, change: () => Promise<{ status: number }>): Promise<{ before: string; after: string }> {
  const before = sessionCookieOf(browser);
  expect((await change()).status).toBe(303);
  const after = sessionCookieOf(browser);
  expect(sessionIdIn(after)).not.toBe(sessionIdIn(before));
  return { before, after };
}

describe('the session id changes on every change of identity', () => {
  it('when a visitor becomes a guest (seed guest checkout): the old session signs no one in and expires in seconds', async () => {
    const browser = app.browser();
    await withSessionCart(browser);
    const token = csrfTokenIn((await browser.get('/checkout')).text)!;
    expect(await sessionRowExists(sessionCookieOf(browser))).toBe(true);
    const { before, after } = await aroundChange(browser, () => browser.post('/checkout', { _csrf: token, action: 'guest-checkout' }));
    expect(await isReplacedSession(app, sessionIdIn(before))).toBe(true);
    expect(await sessionSignsIn(app, before)).toBe(false);
    expect(await sessionSignsIn(app, after)).toBe(true);
  });

  it('when a guest converts: the guest\'s old session id no longer signs in', async () => {
    const browser = app.browser();
    await becomeGuest(browser);
    expect(await sessionSignsIn(app, sessionCookieOf(browser))).toBe(true);
    const { before, after } = await aroundChange(browser, () =>
      browser.submit('/account', { action: 'convert-guest', email: 'ada@example.com', password: PASSWORD }));
    expect(await sessionSignsIn(app, before)).toBe(false);
    expect(await sessionSignsIn(app, after)).toBe(true);
  });

  it('when a guest signs in to an account: the guest\'s old session id no longer signs in', async () => {
    await register(app.browser(), 'owner@example.com');
    const browser = app.browser();
    await becomeGuest(browser);
    const { before, after } = await aroundChange(browser, () => browser.submit('/login', { email: 'owner@example.com', password: PASSWORD }));
    expect(await sessionSignsIn(app, before)).toBe(false);
    expect(await sessionSignsIn(app, after)).toBe(true);
  });

  it('when a signed-out visitor signs in: the session that showed the login form is replaced', async () => {
    await register(app.browser(), 'owner@example.com');
    const browser = app.browser();
    await withSessionCart(browser);
    const token = csrfTokenIn((await browser.get('/login')).text)!;
    const { before } = await aroundChange(browser, () => browser.post('/login', { _csrf: token, email: 'owner@example.com', password: PASSWORD }));
    expect(await isReplacedSession(app, sessionIdIn(before))).toBe(true);
    expect(await sessionSignsIn(app, before)).toBe(false);
  });

  it('when an account signs out: neither the old nor the new session id signs in', async () => {
    const browser = app.browser();
    await register(browser, 'owner@example.com');
    expect(await sessionSignsIn(app, sessionCookieOf(browser))).toBe(true);
    const { before, after } = await aroundChange(browser, () => browser.submit('/logout'));
    expect(await sessionSignsIn(app, before)).toBe(false);
    expect(await sessionSignsIn(app, after)).toBe(false);
  });

  it('when a guest signs out: the old session id no longer signs in', async () => {
    const browser = app.browser();
    await becomeGuest(browser);
    const { before } = await aroundChange(browser, () => browser.submit('/logout'));
    expect(await sessionSignsIn(app, before)).toBe(false);
  });

  it('when the password changes: this browser moves to a new id and other devices are signed out', async () => {
    const browser = app.browser();
    await register(browser, 'owner@example.com');
    const other = app.browser();
    await other.submit('/login', { email: 'owner@example.com', password: PASSWORD });
    const { before, after } = await aroundChange(browser, () =>
      browser.submit('/account', { action: 'change-password', currentPassword: PASSWORD, newPassword: 'a brand new secret' }));
    expect(await sessionSignsIn(app, before)).toBe(false);
    expect(await sessionSignsIn(app, sessionCookieOf(other))).toBe(false);
    expect(await sessionSignsIn(app, after)).toBe(true);
  });
});
