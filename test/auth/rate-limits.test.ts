import { afterEach, describe, expect, it } from 'vitest';
import { csrfTokenIn, startApp, type Browser, type TestApp } from '../support.ts';
import { countRows, DEVICE_COOKIE, eventsOf, PASSWORD, startFixtureApp, textOf } from '../visitors.ts';

let app: TestApp;
afterEach(async () => { await app.close(); });

/** A new visitor opening /try (seed 003's try-before-you-buy), optionally behind a claimed proxy chain. */
function newVisitorOnTry(forwardedFor?: string) {
  const request = app.browser().get('/try');
  return forwardedFor ? request.set('X-Forwarded-For', forwardedFor) : request;
}

/** Waits until `condition` holds (a request has reached a point in the server), failing after 5 s. */
async function until(condition: () => boolean): Promise<void> {
  for (const started = Date.now(); !condition(); await new Promise((resolve) => setTimeout(resolve, 5))) {
    if (Date.now() - started > 5_000) throw new Error('the condition never held');
  }
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
    expect(await countRows(app, 'users')).toBe(3);
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
    expect(await countRows(app, 'accounts')).toBe(3);
  });

  it('does not count visits that create no guest', async () => {
    app = await startApp({ GUEST_RATE_LIMIT: '3' });
    const returning = app.browser();
    expect((await returning.get('/try')).status).toBe(302);
    for (let i = 0; i < 5; i++) expect((await returning.get('/try')).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await app.browser().get('/')).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await newVisitorOnTry()).status).toBe(302);
    expect(await countRows(app, 'users')).toBe(3);
  });

  it('lets the first 3 new guests in while 5 page views from the same address are still rendering', async () => {
    app = await startFixtureApp({ GUEST_RATE_LIMIT: '3' });
    let release!: () => void;
    const slow = new Promise<void>((resolve) => { release = resolve; });
    let rendering = 0;
    app.ctx.globals.hold = () => { rendering++; return slow; };
    const views = Array.from({ length: 5 }, () => app.browser().get('/held').then((response) => response));
    await until(() => rendering === 5);
    for (let i = 0; i < 3; i++) expect((await app.browser().get('/guest-uncaught')).status).toBe(200);
    expect((await app.browser().get('/guest-uncaught')).status).toBe(429);
    release();
    for (const view of await Promise.all(views)) expect(textOf(view.text, 'held')).toBe('released');
    expect(await countRows(app, 'accounts')).toBe(3);
  });

  it('lets the first 3 new guests open /try during a burst of / and /cart from the same address', async () => {
    app = await startApp({ GUEST_RATE_LIMIT: '3' });
    const views = Array.from({ length: 40 }, (_, i) => app.browser().get(i % 2 ? '/' : '/cart').then((response) => response.status));
    const tries = Array.from({ length: 3 }, () => newVisitorOnTry().then((response) => response.status));
    expect(await Promise.all(tries)).toEqual([302, 302, 302]);
    expect(new Set(await Promise.all(views))).toEqual(new Set([200]));
    expect((await newVisitorOnTry()).status).toBe(429);
  });

  it('still limits a page whose partial creates the guest', async () => {
    app = await startFixtureApp({ GUEST_RATE_LIMIT: '3' });
    for (let i = 0; i < 3; i++) expect((await app.browser().get('/guest-via-partial')).status).toBe(200);
    const fourth = await app.browser().get('/guest-via-partial');
    expect(fourth.status).toBe(429);
    expectRetryAfter(fourth.headers['retry-after']);
    expect(await countRows(app, 'accounts')).toBe(3);
  });

  it('counts guests made by a call the template scan cannot see, so the next page that creates guests is limited', async () => {
    app = await startFixtureApp({ GUEST_RATE_LIMIT: '3' });
    for (let i = 0; i < 3; i++) expect((await app.browser().get('/guest-unseen')).status).toBe(200);
    expect(await countRows(app, 'accounts')).toBe(3);
    expect((await app.browser().get('/guest-uncaught')).status).toBe(429);
    expect(await countRows(app, 'accounts')).toBe(3);
  });

  it('is not bypassed by a spoofed X-Forwarded-For when TRUST_PROXY is unset', async () => {
    app = await startApp({ GUEST_RATE_LIMIT: '3' });
    for (let i = 0; i < 3; i++) expect((await newVisitorOnTry(`203.0.113.${i}`)).status).toBe(302);
    const spoofed = await newVisitorOnTry('198.51.100.77');
    expect(spoofed.status).toBe(429);
    expect(await countRows(app, 'users')).toBe(3);
  });

  it('counts per forwarded client IP when TRUST_PROXY=loopback', async () => {
    app = await startApp({ GUEST_RATE_LIMIT: '3', TRUST_PROXY: 'loopback' });
    for (let i = 0; i < 3; i++) expect((await newVisitorOnTry('203.0.113.1')).status).toBe(302);
    expect((await newVisitorOnTry('203.0.113.1')).status).toBe(429);
    expect((await newVisitorOnTry('203.0.113.2')).status).toBe(302);
    expect(await countRows(app, 'users')).toBe(4);
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
    await app.ctx.accounts.register(app.ctx.storage.transactor.begin(), null, { email: 'owner@example.com', password: PASSWORD });
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
    await app.ctx.accounts.register(app.ctx.storage.transactor.begin(), null, { email: 'target@example.com', password: PASSWORD });
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
    expect(await countRows(app, 'users')).toBe(0);
  });
});

describe('a member whose account is flooded with wrong passwords from rotating addresses (LOGIN_RATE_LIMIT=3)', () => {
  const OWNER = 'owner@example.com';
  const NETWORK_MESSAGE = 'Too many attempts from your network. Please wait a minute and try again.';
  const ACCOUNT_MESSAGE = 'Too many sign-in attempts for this account. Please wait a minute and try again.';
  let address = 0;
  /** A client address nobody has used yet, as the proxy reports it. */
  const freshAddress = () => `198.51.100.${++address}`;

  async function logIn(browser: Browser, email: string, password: string, forwardedFor = freshAddress()) {
    const token = csrfTokenIn((await browser.get('/login')).text)!;
    return browser.post('/login', { _csrf: token, email, password }).set('X-Forwarded-For', forwardedFor);
  }

  /** The owner's own browser: it signed in with the password once, then signed out. */
  async function ownersBrowser(): Promise<Browser> {
    const browser = app.browser();
    expect((await logIn(browser, OWNER, PASSWORD)).status).toBe(303);
    expect((await browser.submit('/logout', {})).status).toBe(303);
    return browser;
  }

  /** The attack in the issue: one wrong password per request, each from a new address and a new browser. */
  async function guessFromRotatingAddresses(guesses: number) {
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < guesses; i++) {
      last = await logIn(app.browser(), OWNER, `wrong guess ${i}`);
      statuses.push(last.status);
    }
    return { statuses, last: last! };
  }

  async function startWithOwner(): Promise<void> {
    app = await startApp({ LOGIN_RATE_LIMIT: '3', TRUST_PROXY: 'loopback' });
    await app.ctx.accounts.register(app.ctx.storage.transactor.begin(), null, { email: OWNER, password: PASSWORD });
  }

  it('still signs the owner in (303) from a fresh address on a browser that signed in before', async () => {
    await startWithOwner();
    const owner = await ownersBrowser();
    const attack = await guessFromRotatingAddresses(9);
    expect(attack.statuses).toEqual([401, 401, 401, 429, 429, 429, 429, 429, 429]);
    const response = await logIn(owner, OWNER, PASSWORD);
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/');
    expect((await owner.get('/account')).status).toBe(200);
  });

  it('counts every look-alike spelling of the address against the same account (fullwidth, capitals, trailing dot)', async () => {
    await startWithOwner();
    const spellings = ['ＯＷＮＥＲ@example.com', 'Owner@Example.com.', 'owner@EXAMPLE.com', 'ｏwner@example.com'];
    const statuses: number[] = [];
    for (const [i, spelling] of spellings.entries()) statuses.push((await logIn(app.browser(), spelling, `wrong guess ${i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it('refuses the attacker after 3 wrong passwords with 429, Retry-After and the account message, whatever the address', async () => {
    await startWithOwner();
    const { statuses, last } = await guessFromRotatingAddresses(5);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    expectRetryAfter(last.headers['retry-after']);
    expect(last.text).toContain(ACCOUNT_MESSAGE);
    expect(last.text).not.toContain('from your network');
    expect(await eventsOf(app, 'login_failed')).toHaveLength(3);
  });

  it('refuses the right password too, with the account message, on a browser that never signed in to the account', async () => {
    await startWithOwner();
    await guessFromRotatingAddresses(3);
    const response = await logIn(app.browser(), OWNER, PASSWORD);
    expect(response.status).toBe(429);
    expect(response.text).toContain(ACCOUNT_MESSAGE);
  });

  it('does not count right passwords: the owner signs in from 5 new browsers and addresses in a minute', async () => {
    await startWithOwner();
    for (let i = 0; i < 5; i++) expect((await logIn(app.browser(), OWNER, PASSWORD)).status).toBe(303);
  });

  it('says "from your network" when one address runs out, even on the owner\'s browser', async () => {
    await startWithOwner();
    const owner = await ownersBrowser();
    const office = freshAddress();
    for (const email of ['a@example.com', 'b@example.com', 'c@example.com']) {
      expect((await logIn(app.browser(), email, 'wrong password', office)).status).toBe(401);
    }
    const response = await logIn(owner, OWNER, PASSWORD, office);
    expect(response.status).toBe(429);
    expectRetryAfter(response.headers['retry-after']);
    expect(response.text).toContain(NETWORK_MESSAGE);
  });

  it('lets one address make no more than 3 attempts on one account', async () => {
    await startWithOwner();
    const owner = await ownersBrowser();
    const office = freshAddress();
    for (let i = 0; i < 3; i++) expect((await logIn(owner, OWNER, `typo ${i}`, office)).status).toBe(401);
    const fourth = await logIn(owner, OWNER, PASSWORD, office);
    expect(fourth.status).toBe(429);
    expect(await eventsOf(app, 'login_failed')).toHaveLength(3);
  });

  it('gives a copied known-device cookie only 3 guesses of its own, whatever the address', async () => {
    await startWithOwner();
    const owner = await ownersBrowser();
    const copied = owner.cookie(DEVICE_COOKIE)!;
    await guessFromRotatingAddresses(3);
    const guess = async (password: string) => {
      const thief = app.browser();
      const token = csrfTokenIn((await thief.get('/login')).text)!;
      return thief.post('/login', { _csrf: token, email: OWNER, password })
        .set('X-Forwarded-For', freshAddress()).set('Cookie', `${DEVICE_COOKIE}=${copied}`);
    };
    // The account-wide bound is spent, but the cookie is genuine: it has a bound of its own.
    for (let i = 0; i < 3; i++) expect((await guess(`stolen cookie guess ${i}`)).status).toBe(401);
    const fourth = await guess('stolen cookie guess 3');
    expect(fourth.status).toBe(429);
    expect(fourth.text).toContain(ACCOUNT_MESSAGE);
  });

  it('does not exempt a browser whose known-device cookie names the account but was not issued by the server', async () => {
    await startWithOwner();
    const ownerId = (await app.ctx.storage.records.findRegisteredByEmail(OWNER))!.id;
    await guessFromRotatingAddresses(3);
    const forger = app.browser();
    const token = csrfTokenIn((await forger.get('/login')).text)!;
    const response = await forger.post('/login', { _csrf: token, email: OWNER, password: PASSWORD })
      .set('X-Forwarded-For', freshAddress()).set('Cookie', `${DEVICE_COOKIE}=${ownerId}.forged-device.${'A'.repeat(43)}`);
    expect(response.status).toBe(429);
    expect(response.text).toContain(ACCOUNT_MESSAGE);
  });
});
