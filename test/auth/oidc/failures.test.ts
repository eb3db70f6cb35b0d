/**
 * What goes wrong on the way back from an identity provider (issue 16), against the real test
 * provider: a forged or replayed callback, a code used twice, an ID token with a wrong nonce,
 * expired or mis-signed, a sign-in cancelled at the provider, and a provider that is down or
 * slow. Each gets a readable page with its status, and changes nothing: the guest stays a guest,
 * with its cart, its session and no identity.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { guestWithCart, startApp, type Browser, type TestApp } from '../../support.ts';
import { APP_URL, continueWith, eventsNamed, newLogin, start } from '../../oidc/journeys.ts';
import { startProvider, type Misbehaviour, type TestProvider } from '../../oidc/provider.ts';
import { parseResumeToken, RESUME_COOKIE, sessionCookieOf } from '../../visitors.ts';

let provider: TestProvider;
let app: TestApp;
let logged: string[];
beforeAll(async () => { provider = await startProvider({ appUrl: APP_URL }); });
afterAll(() => provider?.close());
beforeEach(async () => {
  logged = [];
  // A short deadline, so the slow provider's spec need not wait the 8 s a page is given in production.
  app = await startApp(provider.env(), { providerDeadlineMs: 1_500, log: (line) => logged.push(line) });
});
afterEach(async () => {
  provider.misbehave(null);
  await app?.close();
});

interface Guest { browser: Browser; id: string; session: string }

/** A guest with two candles in the cart, on the account page. */
async function guest(): Promise<Guest> {
  const browser = app.browser();
  await guestWithCart(browser, [['candle', 2]]);
  return { browser, id: parseResumeToken(browser.cookie(RESUME_COOKIE)!).id, session: sessionCookieOf(browser) };
}

/** The guest presses "Continue with Acme" and logs in at the provider: where the provider sends them back. */
async function atProvider({ browser }: Guest): Promise<URL> {
  const started = await start(browser, '/account');
  return provider.authorize(started.headers.location!, newLogin());
}

const pathOf = (url: URL) => url.pathname + url.search;

function withParam(url: URL, name: string, value: string | null): string {
  const changed = new URL(url);
  if (value === null) changed.searchParams.delete(name);
  else changed.searchParams.set(name, value);
  return pathOf(changed);
}

async function expectNothingChanged({ browser, id, session }: Guest): Promise<void> {
  expect(await app.sql('SELECT is_anonymous, claimed_at FROM customers WHERE id = ?', id)).toEqual([{ is_anonymous: 1, claimed_at: null }]);
  expect(await app.sql('SELECT product_id, quantity FROM cart_items WHERE account_id = ?', id)).toEqual([{ product_id: 'candle', quantity: 2 }]);
  expect(await app.sql('SELECT * FROM identities')).toEqual([]);
  expect(await eventsNamed(app, 'guest_converted')).toEqual([]);
  expect(sessionCookieOf(browser)).toBe(session);
  expect((await browser.get('/account')).text).toContain('You are a <strong>guest</strong>.');
}

describe('GET /auth/acme/callback with a state this browser is not waiting for', () => {
  it('answers 400 with a readable page when the state was never issued', async () => {
    const visitor = await guest();
    const back = await atProvider(visitor);
    const answer = await visitor.browser.get(withParam(back, 'state', 'forged-state'));
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('This sign-in with Acme has expired or was already used. Nothing was changed: please start again.');
    await expectNothingChanged(visitor);
  });

  it('answers 400 when the callback has no state at all', async () => {
    const visitor = await guest();
    const back = await atProvider(visitor);
    expect((await visitor.browser.get(withParam(back, 'state', null))).status).toBe(400);
    await expectNothingChanged(visitor);
  });

  // Login CSRF: an attacker signs in at the provider and sends their own callback link to a victim.
  it('answers 400 in another browser: an attacker\'s callback link does not sign the victim in to the attacker\'s account', async () => {
    const attacker = await guest();
    const back = await atProvider(attacker);
    const victim = await guest();
    expect((await victim.browser.get(pathOf(back))).status).toBe(400);
    await expectNothingChanged(victim);
  });

  it('answers 400 to the same callback a second time: a state is good once', async () => {
    const visitor = await guest();
    const back = await atProvider(visitor);
    expect((await visitor.browser.get(pathOf(back))).status).toBe(303);
    const again = await visitor.browser.get(pathOf(back));
    expect(again.status).toBe(400);
    expect(await app.sql('SELECT subject FROM identities')).toHaveLength(1);
    expect(await eventsNamed(app, 'guest_converted')).toHaveLength(1);
  });
});

describe('GET /auth/acme/callback with a provider answer that fails a check', () => {
  // The code another browser redeemed already, brought to this browser's own pending sign-in.
  it('answers 400 to a code that was used already: the provider refuses to redeem it twice', async () => {
    const first = await guest();
    const firstBack = await atProvider(first);
    expect((await first.browser.get(pathOf(firstBack))).status).toBe(303);
    const visitor = await guest();
    const started = await start(visitor.browser, '/account');
    const state = new URL(started.headers.location!).searchParams.get('state')!;
    const replayed = await visitor.browser.get(withParam(firstBack, 'state', state));
    expect(replayed.status).toBe(400);
    expect(replayed.text).toContain('The answer from Acme could not be verified, so we did not sign you in.');
    expect(await app.sql('SELECT subject FROM identities')).toHaveLength(1);
    expect((await visitor.browser.get('/account')).text).toContain('You are a <strong>guest</strong>.');
  });

  const now = () => Math.floor(Date.now() / 1000);
  it.each<[string, Misbehaviour]>([
    ['a nonce other than the one sent', { idToken: (payload) => ({ ...payload, nonce: 'another-nonce' }) }],
    ['an expiry an hour ago', { idToken: (payload) => ({ ...payload, iat: now() - 7_200, exp: now() - 3_600 }) }],
    ['a signature by a key the provider never published', { idToken: (payload) => payload, foreignKey: true }],
    ['an audience that is another client', { idToken: (payload) => ({ ...payload, aud: 'another-client' }) }],
    ['an issuer that is not the provider', { idToken: (payload) => ({ ...payload, iss: 'https://evil.example' }) }],
  ])('answers 400 to an ID token with %s, and changes nothing', async (_case, misbehaviour) => {
    const visitor = await guest();
    const back = await atProvider(visitor);
    provider.misbehave(misbehaviour);
    const answer = await visitor.browser.get(pathOf(back));
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('The answer from Acme could not be verified');
    await expectNothingChanged(visitor);
  });

  it('logs why, for the operator, naming the provider and never its client secret', async () => {
    const visitor = await guest();
    const back = await atProvider(visitor);
    provider.misbehave({ idToken: (payload) => payload, foreignKey: true });
    await visitor.browser.get(pathOf(back));
    expect(logged).toEqual([expect.stringMatching(/^identity provider acme: GET \/auth\/acme\/callback answered 400 \(sign_in_rejected\): .*JWT signature verification failed/)]);
    expect(logged.join('\n')).not.toContain(provider.clientSecret);
  });

  it('answers 400 when the visitor cancels at the provider', async () => {
    const visitor = await guest();
    const started = await start(visitor.browser, '/account');
    const back = await provider.authorize(started.headers.location!, newLogin(), { cancel: true });
    expect(back.searchParams.get('error')).toBe('access_denied');
    const answer = await visitor.browser.get(pathOf(back));
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('Signing in with Acme was cancelled. Nothing was changed.');
    await expectNothingChanged(visitor);
  });
});

describe('a provider that is down or slow', () => {
  it('answers 502 to "Continue with Acme" while the provider drops every connection, and works once it is back', async () => {
    const visitor = await guest();
    provider.misbehave({ down: true });
    const page = await visitor.browser.get('/account');
    const answer = await visitor.browser.post('/auth/acme/start', { _csrf: /name="_csrf" value="([^"]+)"/.exec(page.text)![1]! });
    expect(answer.status).toBe(502);
    expect(answer.text).toContain('Acme is not answering right now. Nothing was changed: please try again in a minute.');
    await expectNothingChanged(visitor);
    provider.misbehave(null);
    expect((await continueWith(app, visitor.browser, provider, newLogin(), { from: '/account' })).status).toBe(303);
  });

  it('answers 502 when the provider goes down before the callback, and the guest, kept, is saved on the next try', async () => {
    const visitor = await guest();
    const back = await atProvider(visitor);
    provider.misbehave({ down: true });
    expect((await visitor.browser.get(pathOf(back))).status).toBe(502);
    await expectNothingChanged(visitor);
    provider.misbehave(null);
    expect((await continueWith(app, visitor.browser, provider, newLogin(), { from: '/account' })).status).toBe(303);
    expect(await app.sql('SELECT is_anonymous FROM customers WHERE id = ?', visitor.id)).toEqual([{ is_anonymous: 0 }]);
  });

  it('answers 502 when the token endpoint answers 503', async () => {
    const visitor = await guest();
    const back = await atProvider(visitor);
    provider.misbehave({ status: 503, path: '/token' });
    expect((await visitor.browser.get(pathOf(back))).status).toBe(502);
    await expectNothingChanged(visitor);
  });

  it('answers 504 when the token endpoint never answers: the deadline ends the wait, never the visitor', async () => {
    const visitor = await guest();
    const back = await atProvider(visitor);
    provider.misbehave({ slow: '/token' });
    const answer = await visitor.browser.get(pathOf(back));
    expect(answer.status).toBe(504);
    expect(answer.text).toContain('Acme took too long to answer. Nothing was changed: please try again in a minute.');
    await expectNothingChanged(visitor);
  });
});

describe('POST /auth/acme/start', () => {
  it('answers 403 without the page\'s CSRF token, and sends nobody to the provider', async () => {
    const { browser } = await guest();
    const forged = await browser.post('/auth/acme/start', {});
    expect(forged.status).toBe(403);
    expect(forged.headers.location).toBeUndefined();
  });
});
