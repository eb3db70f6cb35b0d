import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { firstRow, tableNames } from '../rows.ts';
import { csrfTokenIn, guestWithCart, raw, startApp, type TestApp } from '../support.ts';
import {
  accountRow, countRows, jsonOf, parseResumeToken, RESUME_COOKIE, setCookieLine, startFixtureApp, textOf,
} from '../visitors.ts';

interface AuthData {
  token: string;
  record: { id: string; email: string; username: string; verified: boolean; isAnonymous: boolean; collection: string; metadata: object };
}

const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

let app: TestApp;
afterEach(async () => { await app.close(); });

describe('guest checkout (seed 003)', () => {
  beforeEach(async () => { app = await startApp(); });

  it('creates a customers guest, moves the session cart onto its id, and redirects to checkout', async () => {
    const browser = app.browser();
    const response = await guestWithCart(browser, [['ember-mug', 2], ['candle', 1]]);
    expect(response.headers.location).toBe('/checkout');
    const guests = await app.sql<{ id: string; is_anonymous: number }>('SELECT id, is_anonymous FROM customers');
    expect(guests).toHaveLength(1);
    expect(guests[0]!.is_anonymous).toBe(1);
    const cart = await app.sql('SELECT product_id, quantity FROM cart_items WHERE account_id = ? ORDER BY product_id', guests[0]!.id);
    expect(cart).toEqual([{ product_id: 'candle', quantity: 1 }, { product_id: 'ember-mug', quantity: 2 }]);
    const checkout = await browser.get('/checkout');
    expect(checkout.text).toContain('Place order');
  });

  it('makes one guest when the same browser session clicks "Continue as Guest" twice at once', async () => {
    const browser = app.browser();
    const token = csrfTokenIn((await browser.get('/checkout')).text)!;
    const [first, second] = await Promise.all([
      browser.post('/checkout', { _csrf: token, action: 'guest-checkout' }),
      browser.post('/checkout', { _csrf: token, action: 'guest-checkout' }),
    ]);
    expect([first.status, second.status]).toEqual([303, 303]);
    expect(await countRows(app, 'customers')).toBe(1);
    const firstToken = setCookieLine(first, RESUME_COOKIE)?.split(';')[0];
    expect(firstToken).toMatch(/^gk\.resume=customers\./);
    expect(setCookieLine(second, RESUME_COOKIE)?.split(';')[0]).toBe(firstToken);
  });

  it('makes one guest, with the cart on it, when a browser with a cart in its session clicks twice at once', async () => {
    const browser = app.browser();
    await browser.submit('/products/candle', { productId: 'candle', quantity: '1' });
    const token = csrfTokenIn((await browser.get('/checkout')).text)!;
    const [first, second] = await Promise.all([
      browser.post('/checkout', { _csrf: token, action: 'guest-checkout' }),
      browser.post('/checkout', { _csrf: token, action: 'guest-checkout' }),
    ]);
    expect([first.status, second.status]).toEqual([303, 303]);
    expect(await countRows(app, 'customers')).toBe(1);
    expect(setCookieLine(second, RESUME_COOKIE)?.split(';')[0]).toBe(setCookieLine(first, RESUME_COOKIE)?.split(';')[0]);
    expect(await app.sql('SELECT product_id, quantity FROM cart_items')).toEqual([{ product_id: 'candle', quantity: 1 }]);
  });

  it('lands the second click on the same guest when it reaches the server after the first one has signed in', async () => {
    const browser = app.browser();
    await browser.submit('/products/candle', { productId: 'candle', quantity: '1' });
    const token = csrfTokenIn((await browser.get('/checkout')).text)!;
    const oldSession = `gk.sid=${browser.cookie('gk.sid')}`;
    const first = await browser.post('/checkout', { _csrf: token, action: 'guest-checkout' });
    // The browser sent its second click with the cookie it had then: the session the first replaced.
    const second = await raw(app, {
      method: 'POST', path: '/checkout', headers: { cookie: oldSession },
      body: new URLSearchParams({ _csrf: token, action: 'guest-checkout' }).toString(),
    });
    expect([first.status, second.status]).toEqual([303, 303]);
    expect(await countRows(app, 'customers')).toBe(1);
    const resumeOf = (headers: Record<string, unknown>) => ([headers['set-cookie']].flat() as string[])
      .find((line) => line.startsWith(`${RESUME_COOKIE}=`))?.split(';')[0];
    expect(resumeOf(second.headers)).toBe(resumeOf(first.headers));
    expect(await app.sql('SELECT product_id, quantity FROM cart_items')).toEqual([{ product_id: 'candle', quantity: 1 }]);
  });
});

describe('signInAnonymously(options)', () => {
  beforeEach(async () => { app = await startFixtureApp(); });

  it('creates a real record with is_anonymous = 1 in users, with an email at guest.invalid that can never receive mail', async () => {
    const page = await app.browser().get('/guest');
    const { record } = jsonOf<AuthData>(page.text, 'result');
    const row = (await accountRow(app, 'users', record.id))!;
    expect(row.is_anonymous).toBe(1);
    expect(row.email).toBe(`guest-${record.id.toLowerCase()}@guest.invalid`);
    expect(row.email).toMatch(/^guest-[a-z0-9_-]+@guest\.invalid$/);
    expect(await firstRow(app, 'SELECT collection FROM accounts WHERE id = ?', record.id)).toEqual({ collection: 'users' });
    expect(await countRows(app, 'customers')).toBe(0);
  });

  it('stores only a SHA-256 of the 256-bit guest credential: the credential itself is nowhere on disk', async () => {
    const page = await app.browser().get('/guest');
    const { token, record } = jsonOf<AuthData>(page.text, 'result');
    const { secret } = parseResumeToken(token);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    const row = (await accountRow(app, 'users', record.id))!;
    expect(row.password_hash).toBe(`sha256:${createHash('sha256').update(secret).digest('base64url')}`);
    for (const file of fs.readdirSync(app.dataDir)) {
      expect(fs.readFileSync(path.join(app.dataDir, file)).includes(secret), file).toBe(false);
    }
    // On PostgreSQL the rows are in the server's files, not DATA_DIR: look at every row instead.
    for (const table of await tableNames(app)) {
      expect(JSON.stringify(await app.sql(`SELECT * FROM "${table}"`)), table).not.toContain(secret);
    }
  });

  it('creates the guest in the collection the page names', async () => {
    const page = await app.browser().get('/guest?collection=customers');
    const { record } = jsonOf<AuthData>(page.text, 'result');
    expect(record.collection).toBe('customers');
    expect((await accountRow(app, 'customers', record.id))?.is_anonymous).toBe(1);
    expect(await countRows(app, 'users')).toBe(0);
  });

  it('throws unknown_collection for a collection that is not configured, and creates nothing', async () => {
    const page = await app.browser().get('/guest?collection=nope');
    expect(textOf(page.text, 'error')).toBe('unknown_collection');
    expect(textOf(page.text, 'after')).toBe('');
    expect(page.status).toBe(500);
    expect(await countRows(app, 'accounts')).toBe(0);
  });

  it('signs the visitor in within the same request: request.auth is the new guest for the rest of the render', async () => {
    const page = await app.browser().get('/guest');
    const { record } = jsonOf<AuthData>(page.text, 'result');
    expect(textOf(page.text, 'before')).toBe('');
    expect(textOf(page.text, 'after')).toBe(record.id);
    expect(textOf(page.text, 'after-anonymous')).toBe('true');
  });

  it('returns { token, record } with id, email, username, verified and the other fields, never the hash', async () => {
    const browser = app.browser();
    const page = await browser.get('/guest');
    const { token, record } = jsonOf<AuthData>(page.text, 'result');
    expect(token).toBe(decodeURIComponent(browser.cookie(RESUME_COOKIE)!));
    expect(parseResumeToken(token)).toMatchObject({ collection: 'users', id: record.id });
    expect(record).toMatchObject({
      email: expect.stringMatching(/@guest\.invalid$/), username: expect.any(String), verified: false,
      isAnonymous: true, collection: 'users', metadata: {},
    });
    expect(Object.keys(record)).not.toContain('passwordHash');
    expect(page.text).not.toContain('sha256:');
  });

  it('gives a visitor who already is that collection\'s guest the same record, with no new row', async () => {
    const browser = app.browser();
    const first = jsonOf<AuthData>((await browser.get('/guest')).text, 'result');
    const again = await browser.get('/guest');
    expect(textOf(again.text, 'before')).toBe(first.record.id);
    expect(jsonOf<AuthData>(again.text, 'result')).toMatchObject({ token: first.token, record: { id: first.record.id } });
    expect(await countRows(app, 'users')).toBe(1);
  });

  it('makes a fresh guest with forceNew: true and signs the visitor in as it', async () => {
    const browser = app.browser();
    const first = jsonOf<AuthData>((await browser.get('/guest')).text, 'result');
    const fresh = await browser.get('/guest?forceNew=yes');
    const second = jsonOf<AuthData>(fresh.text, 'result');
    expect(second.record.id).not.toBe(first.record.id);
    expect(textOf(fresh.text, 'after')).toBe(second.record.id);
    expect(await countRows(app, 'users')).toBe(2);
    expect(parseResumeToken(browser.cookie(RESUME_COOKIE)!).id).toBe(second.record.id);
    expect(jsonOf<{ id: string }>((await browser.get('/whoami')).text, 'auth').id).toBe(second.record.id);
  });

  it('answers already_signed_in (409) to a registered user, who stays signed in', async () => {
    const browser = app.browser();
    const signUp = await browser.submit('/signup', { email: 'reg@example.com', password: 'long enough' });
    expect(signUp.status).toBe(303);
    const page = await browser.get('/guest');
    expect(page.status).toBe(409);
    expect(textOf(page.text, 'error')).toBe('already_signed_in');
    expect(textOf(page.text, 'after-anonymous')).toBe('false');
    expect(jsonOf<{ email: string }>((await browser.get('/whoami')).text, 'auth').email).toBe('reg@example.com');
    expect(await countRows(app, 'accounts')).toBe(1);
  });

  it('stores metadata as JSON on the record and returns it, then and on later requests', async () => {
    const metadata = { source: 'spring-campaign', visits: 2, tags: ['a', 'b'] };
    const browser = app.browser();
    const page = await browser.get(`/guest?metadata=${encodeURIComponent(JSON.stringify(metadata))}`);
    const { record } = jsonOf<AuthData>(page.text, 'result');
    expect(record.metadata).toEqual(metadata);
    expect(JSON.parse((await accountRow(app, 'users', record.id))!.metadata)).toEqual(metadata);
    expect(jsonOf<{ metadata: object }>((await browser.get('/whoami')).text, 'auth').metadata).toEqual(metadata);
  });
});

describe('when guests may not be created', () => {
  it('throws anonymous_disabled with ANONYMOUS_ENABLED=false, and /try still renders for the visitor', async () => {
    app = await startApp({ ANONYMOUS_ENABLED: 'false' });
    const tryPage = await app.browser().get('/try');
    expect(tryPage.status).toBe(200);
    expect(tryPage.text).toContain('Guest access is not available right now.');
    expect(await countRows(app, 'accounts')).toBe(0);
  });

  it('reports anonymous_disabled to the page that calls signInAnonymously, and a 403 page when it is not caught', async () => {
    app = await startFixtureApp({ ANONYMOUS_ENABLED: 'false' });
    const browser = app.browser();
    expect(textOf((await browser.get('/guest')).text, 'error')).toBe('anonymous_disabled');
    const uncaught = await browser.get('/guest-uncaught');
    expect(uncaught.status).toBe(403);
    expect(textOf(uncaught.text, 'message')).toBe('Guest accounts are not available right now.');
    expect(await countRows(app, 'accounts')).toBe(0);
  });

  it('gives a crawler (Googlebot) no guest: /try renders and no row is written', async () => {
    app = await startApp();
    const bot = app.browser();
    bot.userAgent = GOOGLEBOT;
    const page = await bot.get('/try');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Guest access is not available right now.');
    expect(bot.cookie(RESUME_COOKIE)).toBeUndefined();
    expect(await countRows(app, 'accounts')).toBe(0);
  });

  it('answers anonymous_disabled to a crawler calling signInAnonymously', async () => {
    app = await startFixtureApp();
    const bot = app.browser();
    bot.userAgent = GOOGLEBOT;
    expect(textOf((await bot.get('/guest')).text, 'error')).toBe('anonymous_disabled');
    expect(await countRows(app, 'accounts')).toBe(0);
  });
});
