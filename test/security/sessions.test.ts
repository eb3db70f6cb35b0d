/**
 * Session fixation and replay: every change of identity moves the visitor to a new session id
 * (an id someone planted or saw before is worth nothing afterwards), and a session cookie copied
 * before sign-out, account deletion or a password change no longer signs anyone in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isReplacedSession, storedSession } from '../rows.ts';
import { type Browser, csrfTokenIn, guestWithCart, startApp, type TestApp, raw } from '../support.ts';
import { expectRedirect, guestBrowser, PASSWORD, registeredBrowser, signedInAs, uniqueEmail } from './attack.ts';

let app: TestApp;
beforeAll(async () => { app = await startApp(); });
afterAll(async () => { await app.close(); });

/** The raw `gk.sid` cookie value (`s:<id>.<signature>`, URL-encoded). */
function sessionCookie(browser: Browser): string {
  const value = browser.cookie('gk.sid');
  if (!value) throw new Error('this browser has no session cookie');
  return value;
}

function sessionId(cookie: string): string {
  return /^s:([^.]+)\./.exec(decodeURIComponent(cookie))![1]!;
}

async function sessionStored(id: string): Promise<boolean> {
  return await storedSession(app, id) !== undefined;
}

/** Who a bare cookie header signs in, as the account page answers it (no cookie jar involved). */
async function whoIs(cookie: string): Promise<string | null> {
  const page = await raw(app, { path: '/account', headers: { cookie } });
  if (page.status === 302) return null;
  if (page.body.includes('You are a <strong>guest</strong>')) return 'guest';
  return /Signed in as <strong>([^<]+)<\/strong>/.exec(page.body)?.[1] ?? null;
}

/** A browser with a session (a product in its session cart) but signed in to nothing. */
async function visitorWithSession(): Promise<Browser> {
  const browser = app.browser();
  expectRedirect(await browser.submit('/products/candle', { productId: 'candle', quantity: '1' }), 'add to cart');
  sessionCookie(browser);
  return browser;
}

function plantSessionCookie(browser: Browser, cookie: string): void {
  const jar = (browser.agent as unknown as { jar: { setCookie(cookie: string, domain: string, path: string): unknown } }).jar;
  jar.setCookie(`gk.sid=${cookie}; Path=/`, '127.0.0.1', '/');
}

describe('the session id changes on every change of identity, and the old one signs no one in', () => {
  // [when, setup, act, whether the visitor is someone else afterwards]
  const changes: Array<[string, () => Promise<Browser>, (browser: Browser) => Promise<unknown>, boolean?]> = [
    ['a visitor becomes a guest on the try page', visitorWithSession, (browser) => browser.get('/try')],
    ['a visitor checks out as a guest', async () => {
      const browser = app.browser();
      expectRedirect(await browser.submit('/products/candle', { productId: 'candle', quantity: '1' }), 'add to cart');
      return browser;
    }, (browser) => browser.submit('/checkout', { action: 'guest-checkout' })],
    ['a guest saves their account', () => guestBrowser(app),
      (browser) => browser.submit('/account', { action: 'convert-guest', email: uniqueEmail('convert'), password: PASSWORD })],
    ['a visitor registers', visitorWithSession,
      (browser) => browser.submit('/register', { email: uniqueEmail('register'), password: PASSWORD })],
    ['a visitor signs in', visitorWithSession, async (browser) => {
      const email = uniqueEmail('login');
      await registeredBrowser(app, email);
      return browser.submit('/login', { email, password: PASSWORD });
    }],
    ['a guest signs in to an existing account', () => guestBrowser(app), async (browser) => {
      const email = uniqueEmail('merge');
      await registeredBrowser(app, email);
      return browser.submit('/login', { email, password: PASSWORD });
    }],
    ['a user signs out', () => registeredBrowser(app), (browser) => browser.submit('/logout', {})],
    ['a guest signs out', () => guestBrowser(app), (browser) => browser.submit('/logout', {})],
    ['a user changes their password', () => registeredBrowser(app),
      (browser) => browser.submit('/account', { action: 'change-password', currentPassword: PASSWORD, newPassword: 'a new password' }),
      false],
  ];

  for (const [when, setup, act, someoneElse = true] of changes) {
    it(`when ${when}`, async () => {
      const browser = await setup();
      const before = sessionCookie(browser);
      const identity = await signedInAs(browser);
      await act(browser);
      const after = sessionCookie(browser);
      expect(sessionId(after)).not.toBe(sessionId(before));
      expect(await isReplacedSession(app, sessionId(before))).toBe(true);
      expect(await whoIs(`gk.sid=${before}`)).toBeNull();
      if (someoneElse) expect(await signedInAs(browser)).not.toBe(identity);
      else expect(await signedInAs(browser)).toBe(identity);
    });
  }
});

describe('session fixation', () => {
  it('a session id planted in the victim\'s browser is not signed in after the victim signs in', async () => {
    const attacker = await visitorWithSession();
    const planted = sessionCookie(attacker);
    const email = uniqueEmail('victim');
    await registeredBrowser(app, email);
    const victim = app.browser();
    plantSessionCookie(victim, planted);
    expectRedirect(await victim.submit('/login', { email, password: PASSWORD }), 'victim sign-in');
    expect(await signedInAs(victim)).toBe(email);
    expect(sessionCookie(victim)).not.toBe(planted);
    expect(await whoIs(`gk.sid=${planted}`)).toBeNull();
    expect(await signedInAs(attacker)).toBeNull();
  });

  it('a session id planted before the victim becomes a guest does not make the attacker that guest', async () => {
    const attacker = await visitorWithSession();
    const planted = sessionCookie(attacker);
    const victim = app.browser();
    plantSessionCookie(victim, planted);
    await victim.get('/try');
    expect(await signedInAs(victim)).toBe('guest');
    expect(await whoIs(`gk.sid=${planted}`)).toBeNull();
  });

  it('ignores a session cookie with a forged signature and issues its own id', async () => {
    const forged = encodeURIComponent('s:attacker-chosen-session-id.forgedsignature');
    const form = await raw(app, { path: '/products/candle', headers: { cookie: `gk.sid=${forged}` } });
    expect(form.status).toBe(200);
    // Viewing the form stores nothing; adding to the cart stores the cart, in a session of its own.
    const csrfCookie = (form.headers['set-cookie'] ?? []).find((cookie) => cookie.startsWith('gk.csrf='))!.split(';')[0]!;
    const page = await raw(app, {
      method: 'POST', path: '/products/candle', headers: { cookie: `gk.sid=${forged}; ${csrfCookie}` },
      body: new URLSearchParams({ _csrf: csrfTokenIn(form.body)!, productId: 'candle', quantity: '1' }).toString(),
    });
    expect(page.status).toBe(303);
    const issued = (page.headers['set-cookie'] ?? []).find((cookie) => cookie.startsWith('gk.sid='));
    expect(issued).toBeDefined();
    expect(issued).not.toContain('attacker-chosen-session-id');
    expect(await sessionStored('attacker-chosen-session-id')).toBe(false);
  });
});

describe('replaying an old session cookie', () => {
  it('signs nobody in after the user signed out', async () => {
    const email = uniqueEmail('replay');
    const browser = await registeredBrowser(app, email);
    const old = sessionCookie(browser);
    expect(await whoIs(`gk.sid=${old}`)).toBe(email);
    expectRedirect(await browser.submit('/logout', {}), 'sign-out');
    expect(await whoIs(`gk.sid=${old}`)).toBeNull();
  });

  it('signs nobody in after a guest signed out softly (their resume cookie is paused in their own browser)', async () => {
    const browser = await guestBrowser(app);
    const old = sessionCookie(browser);
    expectRedirect(await browser.submit('/logout', {}), 'sign-out');
    expect(await whoIs(`gk.sid=${old}`)).toBeNull();
  });

  it('signs nobody in after a guest signed out and forgot the guest, even with a copy of their resume cookie', async () => {
    const browser = await guestBrowser(app);
    const old = `gk.sid=${sessionCookie(browser)}; gk.resume=${browser.cookie('gk.resume')}`;
    expect(await whoIs(old)).toBe('guest');
    expectRedirect(await browser.submit('/logout', { forget: 'yes' }), 'sign-out');
    expect(await whoIs(old)).toBeNull();
    expect(await whoIs(`gk.resume=${/gk\.resume=([^;]+)/.exec(old)![1]}`)).toBeNull();
  });

  /** A new account signed in on two browsers. */
  async function signedInTwice(label: string) {
    const email = uniqueEmail(label);
    const browser = await registeredBrowser(app, email);
    const otherDevice = app.browser();
    expectRedirect(await otherDevice.submit('/login', { email, password: PASSWORD }), 'second device sign-in');
    return { email, browser, otherDevice };
  }

  it('signs nobody in after the account was deleted, on this device or any other', async () => {
    const { browser, otherDevice } = await signedInTwice('deleted');
    const old = sessionCookie(browser);
    const other = sessionCookie(otherDevice);
    expectRedirect(await browser.submit('/account', { action: 'delete-account', password: PASSWORD }), 'deletion');
    expect(await whoIs(`gk.sid=${old}`)).toBeNull();
    expect(await whoIs(`gk.sid=${other}`)).toBeNull();
    expect(await signedInAs(otherDevice)).toBeNull();
  });

  it('signs other devices out after a password change, while the changer stays signed in', async () => {
    const { email, browser, otherDevice } = await signedInTwice('changed');
    const old = sessionCookie(browser);
    expectRedirect(await browser.submit('/account', { action: 'change-password', currentPassword: PASSWORD, newPassword: 'another password' }), 'password change');
    expect(await signedInAs(browser)).toBe(email);
    expect(await signedInAs(otherDevice)).toBeNull();
    expect(await whoIs(`gk.sid=${old}`)).toBeNull();
  });

  it('does not sign in as the converted account with the guest\'s cookies from before conversion', async () => {
    const browser = app.browser();
    await guestWithCart(browser);
    const old = `gk.sid=${sessionCookie(browser)}; gk.resume=${browser.cookie('gk.resume')}`;
    expect(await whoIs(old)).toBe('guest');
    const email = uniqueEmail('converted');
    expectRedirect(await browser.submit('/account', { action: 'convert-guest', email, password: PASSWORD }), 'conversion');
    expect(await signedInAs(browser)).toBe(email);
    expect(await whoIs(old)).toBeNull();
  });
});
