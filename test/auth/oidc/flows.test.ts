/**
 * Continuing with an identity provider (issue 16), against a real OpenID Provider on loopback:
 * the guest saved in place, the guest merged into the account their provider account opens, the
 * returning visitor signed in, the new account, and seed 000's never_trust rule for emails.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findLookAlikeEmails } from '../../../src/auth/look-alike-emails.ts';
import { guestWithCart, startApp, type Browser, type TestApp } from '../../support.ts';
import { APP_URL, continueWith, eventsNamed, identitiesOf, newLogin } from '../../oidc/journeys.ts';
import { startProvider, type TestProvider } from '../../oidc/provider.ts';
import { becomeGuest, clearsCookie, parseResumeToken, PASSWORD, register, RESUME_COOKIE, sessionCookieOf } from '../../visitors.ts';

let provider: TestProvider;
let app: TestApp;
beforeAll(async () => { provider = await startProvider({ appUrl: APP_URL, names: ['acme', 'trusted'] }); });
afterAll(() => provider?.close());
beforeEach(async () => {
  // acme's emails are not trusted (the default); "trusted" is a provider whose email_verified we believe.
  app = await startApp(provider.env({ acme: {}, trusted: { LABEL: 'Trusted ID', TRUST_EMAIL: 'true' } }));
});
afterEach(() => app?.close());

interface AccountRow { id: string; email: string; is_anonymous: number; claimed_at: number | null; password_hash: string; name: string | null }
const rowOf = async (collection: string, id: string) =>
  (await app.sql<AccountRow>(`SELECT id, email, is_anonymous, claimed_at, password_hash, name FROM ${collection} WHERE id = ?`, id))[0];
const cartOf = (id: string) => app.sql('SELECT product_id, quantity FROM cart_items WHERE account_id = ? ORDER BY product_id', id);
const guestIdOf = (browser: Browser) => parseResumeToken(browser.cookie(RESUME_COOKIE)!).id;

/** A provider account that signed up on another browser: the id of the account it opens. */
async function accountThroughProvider(login: string): Promise<string> {
  await continueWith(app, app.browser(), provider, login);
  const [linked] = await app.sql<{ account_id: string }>('SELECT account_id FROM identities WHERE subject = ?', login);
  return linked!.account_id;
}

describe('a guest who continues with a provider account linked to nothing', () => {
  it('is saved in place: same id, registered, claimed, the provider account linked, the cart kept', async () => {
    const browser = app.browser();
    await guestWithCart(browser, [['candle', 2]]);
    const guestId = guestIdOf(browser);
    const login = newLogin();

    const back = await continueWith(app, browser, provider, login, { from: '/account' });
    expect(back.status).toBe(303);
    expect(back.headers.location).toBe('/account');
    expect(await rowOf('customers', guestId)).toMatchObject({ is_anonymous: 0, claimed_at: expect.any(Number), password_hash: '', name: login });
    expect(await identitiesOf(app, guestId)).toEqual([{ provider: 'acme', subject: login, email: `${login}@idp.example`, email_verified: 1 }]);
    expect(await cartOf(guestId)).toEqual([{ product_id: 'candle', quantity: 2 }]);
    const account = await browser.get('/account');
    expect(account.text).toContain('Your account is saved. Everything you did as a guest is in it.');
    expect(account.text).toContain(`Signed in as <strong>${login}</strong>`);
    expect(account.text).toMatch(/Ways to sign in[\s\S]*Acme <span class="muted">\([^)]*@idp\.example\)<\/span>/);
  });

  it('records one guest_converted event that says it was through acme', async () => {
    const browser = app.browser();
    const guestId = await becomeGuest(browser);
    await continueWith(app, browser, provider, newLogin(), { from: '/account' });
    expect(await eventsNamed(app, 'guest_converted')).toEqual([{ record_id: guestId, collection: 'users', detail: { method: 'oidc', provider: 'acme' } }]);
  });

  it('gets a new session id, and the resume cookie of a guest is cleared', async () => {
    const browser = app.browser();
    await becomeGuest(browser);
    const before = sessionCookieOf(browser);
    const back = await continueWith(app, browser, provider, newLogin(), { from: '/try' });
    expect(sessionCookieOf(browser)).not.toBe(before);
    expect(clearsCookie(back, RESUME_COOKIE)).toBe(true);
  });

  it('does not take an email the provider is not trusted for: the account keeps one under .invalid', async () => {
    const browser = app.browser();
    const guestId = await becomeGuest(browser);
    await continueWith(app, browser, provider, newLogin(), { from: '/account' });
    expect((await rowOf('users', guestId))?.email).toMatch(/@no-email\.invalid$/);
    // A placeholder is no address: the start-up report of look-alike emails leaves it out.
    expect(await findLookAlikeEmails(app.ctx.storage.records)).toEqual({ lookAlikes: [], refused: [], notCanonical: [] });
    // Whoever owns the address can still register with it.
    expect((await register(app.browser(), `${(await identitiesOf(app, guestId))[0]!.subject}@idp.example`)).status).toBe(303);
  });

  it('takes the email of a provider trusted for email that says it is verified, but signs in with no password', async () => {
    const browser = app.browser();
    const guestId = await becomeGuest(browser);
    const login = newLogin();
    await continueWith(app, browser, provider, login, { from: '/account', name: 'trusted' });
    expect((await rowOf('users', guestId))?.email).toBe(`${login}@idp.example`);
    const attempt = await app.browser().submit('/login', { email: `${login}@idp.example`, password: PASSWORD });
    expect(attempt.status).toBe(401);
  });
});

describe('a guest whose provider account is linked to an account already', () => {
  it('is merged into that account, as a password sign-in does: the cart moves, the guest goes', async () => {
    const login = newLogin();
    const accountId = await accountThroughProvider(login);
    const browser = app.browser();
    await guestWithCart(browser, [['tea-tin', 1]]);
    const guestId = guestIdOf(browser);

    const back = await continueWith(app, browser, provider, login, { from: '/login' });
    expect(back.status).toBe(303);
    expect(await cartOf(accountId)).toEqual([{ product_id: 'tea-tin', quantity: 1 }]);
    expect(await rowOf('customers', guestId)).toBeUndefined();
    expect(await eventsNamed(app, 'guest_merged')).toEqual([{ record_id: guestId, collection: 'customers', detail: { into: accountId } }]);
    expect((await browser.get('/account')).text).toContain('What you did as a guest is in your account.');
  });
});

describe('a visitor whose provider account is linked', () => {
  it('is signed in to its account with a new session id, and signed_in says how', async () => {
    const login = newLogin();
    const accountId = await accountThroughProvider(login);
    const browser = app.browser();
    await browser.get('/login');
    const back = await continueWith(app, browser, provider, login);
    expect(back.headers.location).toBe('/');
    expect((await browser.get('/account')).text).toContain(`Signed in as <strong>${login}</strong>`);
    expect(await eventsNamed(app, 'signed_in')).toEqual([{ record_id: accountId, collection: 'users', detail: { method: 'oidc', provider: 'acme' } }]);
  });

  it('comes back to the page the sign-in began on (next)', async () => {
    const login = newLogin();
    await accountThroughProvider(login);
    const back = await continueWith(app, app.browser(), provider, login, { from: '/login?next=%2Fcheckout' });
    expect(back.headers.location).toBe('/checkout');
  });
});

describe('a visitor with no account continuing with a new provider account', () => {
  it('gets a new registered account in users, with the provider account linked', async () => {
    const browser = app.browser();
    const login = newLogin();
    const back = await continueWith(app, browser, provider, login, { from: '/register' });
    expect(back.status).toBe(303);
    const [linked] = await app.sql<{ account_id: string }>('SELECT account_id FROM identities WHERE subject = ?', login);
    expect(await rowOf('users', linked!.account_id)).toMatchObject({ is_anonymous: 0, password_hash: '', name: login });
    expect(await eventsNamed(app, 'registered')).toEqual([{ record_id: linked!.account_id, collection: 'users', detail: { method: 'oidc', provider: 'acme' } }]);
    expect((await browser.get('/account')).text).toContain('This account has no password: you sign in with Acme.');
  });
});

describe('a new provider account whose email an account has (seed 000\'s never_trust)', () => {
  async function owner(email: string): Promise<string> {
    await register(app.browser(), email);
    return (await app.sql<{ id: string }>('SELECT id FROM users WHERE email = ?', email))[0]!.id;
  }

  it('is linked to that account when the provider is trusted for email and says it is verified; the guest is merged', async () => {
    const ownerId = await owner('owner@example.com');
    const login = newLogin();
    provider.setAccount(login, { email: 'Owner@Example.com', email_verified: true });
    const browser = app.browser();
    await guestWithCart(browser, [['candle', 1]]);
    const back = await continueWith(app, browser, provider, login, { from: '/account', name: 'trusted' });
    expect(back.status).toBe(303);
    expect(await identitiesOf(app, ownerId)).toEqual([{ provider: 'trusted', subject: login, email: 'Owner@Example.com', email_verified: 1 }]);
    expect(await cartOf(ownerId)).toEqual([{ product_id: 'candle', quantity: 1 }]);
    expect((await browser.get('/account')).text).toContain('Signed in as <strong>owner@example.com</strong>');
    expect(await eventsNamed(app, 'identity_linked')).toEqual([
      { record_id: ownerId, collection: 'users', detail: { method: 'oidc', provider: 'trusted', by: 'email' } },
    ]);
  });

  it.each([
    ['a provider not trusted for email', 'acme', true],
    ['a trusted provider that says the email is not verified', 'trusted', false],
  ])('is not linked with %s: sign in with the password first, then link it; nothing changes', async (_case, name, verified) => {
    const ownerId = await owner('owner@example.com');
    const login = newLogin();
    provider.setAccount(login, { email: 'owner@example.com', email_verified: verified });
    const browser = app.browser();
    const guestId = await becomeGuest(browser);
    const session = sessionCookieOf(browser);

    const back = await continueWith(app, browser, provider, login, { from: '/account', name });
    expect(back.status).toBe(303);
    expect(back.headers.location).toBe('/login?next=%2Faccount');
    const label = name === 'acme' ? 'Acme' : 'Trusted ID';
    expect((await browser.get(back.headers.location!)).text).toContain(
      `An account with the email from ${label} already exists. Sign in with your password first, then link ${label} from your account page.`);
    expect(await app.sql('SELECT * FROM identities')).toEqual([]);
    expect((await rowOf('users', guestId))?.is_anonymous).toBe(1);
    expect(sessionCookieOf(browser)).toBe(session);
    expect((await rowOf('users', ownerId))?.email).toBe('owner@example.com');
  });
});

describe('a signed-in account continuing with a provider account linked to nothing', () => {
  it('answers 409 and links nothing: linking is done from the account page', async () => {
    const browser = app.browser();
    await register(browser, 'member@example.com');
    const back = await continueWith(app, browser, provider, newLogin(), { from: '/login' });
    expect(back.status).toBe(409);
    expect(back.text).toContain('You are already signed in. To sign in with Acme from now on, link it from your account page.');
    expect(await app.sql('SELECT * FROM identities')).toEqual([]);
  });
});
