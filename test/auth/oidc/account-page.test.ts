/**
 * The account page's "Ways to sign in" (issue 16): the linked providers, linking another, and
 * unlinking, which is refused when it would leave the account no way to sign in. Each link and
 * unlink gets a new session id.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startApp, type Browser, type TestApp } from '../../support.ts';
import { APP_URL, continueWith, eventsNamed, formFields, identitiesOf, newLogin, press } from '../../oidc/journeys.ts';
import { startProvider, type TestProvider } from '../../oidc/provider.ts';
import { register, sessionCookieOf } from '../../visitors.ts';

let provider: TestProvider;
let app: TestApp;
beforeAll(async () => { provider = await startProvider({ appUrl: APP_URL, names: ['acme', 'globex'] }); });
afterAll(() => provider?.close());
beforeEach(async () => { app = await startApp(provider.env({ acme: {}, globex: {} })); });
afterEach(() => app?.close());

const idOf = async (email: string) => (await app.sql<{ id: string }>('SELECT id FROM users WHERE email = ?', email))[0]!.id;

/** A browser signed in to an account made through acme (no password); returns it and the account's id. */
async function providerAccount(login = newLogin()): Promise<{ browser: Browser; id: string }> {
  const browser = app.browser();
  await continueWith(app, browser, provider, login);
  const [linked] = await app.sql<{ account_id: string }>('SELECT account_id FROM identities WHERE subject = ?', login);
  return { browser, id: linked!.account_id };
}

describe('linking from the account page', () => {
  it('links a provider account to the signed-in account, with a new session id and identity_linked', async () => {
    const browser = app.browser();
    await register(browser, 'member@example.com');
    const id = await idOf('member@example.com');
    const before = sessionCookieOf(browser);
    const login = newLogin();

    const back = await continueWith(app, browser, provider, login, { from: '/account' });
    expect(back.status).toBe(303);
    expect(back.headers.location).toBe('/account');
    expect(await identitiesOf(app, id)).toEqual([{ provider: 'acme', subject: login, email: `${login}@idp.example`, email_verified: 1 }]);
    expect(sessionCookieOf(browser)).not.toBe(before);
    expect(await eventsNamed(app, 'identity_linked')).toEqual([{ record_id: id, collection: 'users', detail: { method: 'oidc', provider: 'acme' } }]);
    const page = await browser.get('/account');
    expect(page.text).toContain('Acme is linked: you can sign in with it from now on.');
    expect(page.text).toContain('Signed in as <strong>member@example.com</strong>');

    // It now signs in to this account, from any browser.
    await continueWith(app, app.browser(), provider, login);
    expect(await eventsNamed(app, 'signed_in')).toEqual([{ record_id: id, collection: 'users', detail: { method: 'oidc', provider: 'acme' } }]);
  });

  it('answers 409 to a provider account linked to another account, and links nothing', async () => {
    const login = newLogin();
    const other = await providerAccount(login);
    const browser = app.browser();
    await register(browser, 'member@example.com');
    const back = await continueWith(app, browser, provider, login, { from: '/account' });
    expect(back.status).toBe(409);
    expect(back.text).toContain('This Acme account is linked to another account here.');
    expect(await identitiesOf(app, await idOf('member@example.com'))).toEqual([]);
    expect(await identitiesOf(app, other.id)).toHaveLength(1);
  });

  it('says so when the provider account is linked to this account already', async () => {
    const login = newLogin();
    const { browser, id } = await providerAccount(login);
    await continueWith(app, browser, provider, login, { from: '/account' });
    expect((await browser.get('/account')).text).toContain('Acme was linked to your account already.');
    expect(await identitiesOf(app, id)).toHaveLength(1);
  });
});

describe('unlinking from the account page', () => {
  it('lists the password and each provider, and unlinks one with a new session id and identity_unlinked', async () => {
    const browser = app.browser();
    await register(browser, 'member@example.com');
    const id = await idOf('member@example.com');
    await continueWith(app, browser, provider, newLogin(), { from: '/account' });
    const page = await browser.get('/account');
    expect(page.text).toContain('Email and password');
    expect(page.text).toContain('Unlink Acme');
    const before = sessionCookieOf(browser);

    const unlinked = await press(browser, '/account', '/auth/acme/unlink');
    expect(unlinked.status).toBe(303);
    expect(unlinked.headers.location).toBe('/account');
    expect(await identitiesOf(app, id)).toEqual([]);
    expect(sessionCookieOf(browser)).not.toBe(before);
    expect(await eventsNamed(app, 'identity_unlinked')).toEqual([{ record_id: id, collection: 'users', detail: { provider: 'acme' } }]);
    expect((await browser.get('/account')).text).toContain('Acme is unlinked from your account.');
  });

  it('unlinks one of two providers of an account without a password; the other is then its only way in', async () => {
    const { browser, id } = await providerAccount();
    await continueWith(app, browser, provider, newLogin(), { from: '/account', name: 'globex' });
    expect((await identitiesOf(app, id)).map((identity) => identity.provider)).toEqual(['acme', 'globex']);
    expect((await press(browser, '/account', '/auth/acme/unlink')).status).toBe(303);
    const page = await browser.get('/account');
    expect(page.text).toContain('your only way to sign in');
    expect(formFields(page.text, '/auth/globex/unlink')).toBeNull();
  });

  it('offers no Unlink for the only way to sign in, and answers 409 to a forged one, which unlinks nothing', async () => {
    const { browser, id } = await providerAccount();
    const page = await browser.get('/account');
    expect(page.text).toContain('your only way to sign in');
    expect(formFields(page.text, '/auth/acme/unlink')).toBeNull();
    const [identity] = await identitiesOf(app, id);
    const token = formFields(page.text, '/auth/globex/start')!._csrf!;
    const forged = await browser.post('/auth/acme/unlink', { _csrf: token, subject: identity!.subject });
    expect(forged.status).toBe(409);
    expect(forged.text).toContain('Acme is the only way to sign in to this account, so it cannot be unlinked.');
    expect(await identitiesOf(app, id)).toHaveLength(1);
    expect(await eventsNamed(app, 'identity_unlinked')).toEqual([]);
  });

  it('answers 404 to unlinking another account\'s provider account, and 403 without the page\'s CSRF token', async () => {
    const login = newLogin();
    const other = await providerAccount(login);
    const browser = app.browser();
    await register(browser, 'member@example.com');
    const token = formFields((await browser.get('/account')).text, '/auth/acme/start')!._csrf!;
    expect((await browser.post('/auth/acme/unlink', { _csrf: token, subject: login })).status).toBe(404);
    expect((await browser.post('/auth/acme/unlink', { subject: login })).status).toBe(403);
    expect(await identitiesOf(app, other.id)).toHaveLength(1);
  });
});
