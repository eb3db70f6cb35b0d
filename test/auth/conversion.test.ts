import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countOf, firstRow } from '../rows.ts';
import { csrfTokenIn, guestWithCart, startApp, type Browser, type TestApp } from '../support.ts';
import {
  accountRow, becomeGuest, clearsCookie, countRows, jsonOf, parseResumeToken, PASSWORD, register, RESUME_COOKIE,
  startFixtureApp, textOf,
} from '../visitors.ts';

let app: TestApp;
afterEach(async () => { await app.close(); });

/** A `customers` guest with a cart, made by the seed's guest checkout; returns its id. */
async function customerWithCart(browser: Browser): Promise<string> {
  await guestWithCart(browser);
  return parseResumeToken(browser.cookie(RESUME_COOKIE)!).id;
}

function convertAt(browser: Browser, page: string, email: string, password: string) {
  return browser.submit(page, { action: 'convert-guest', email, password });
}

/** The conversion partial's email input and the error shown under a field, if any. */
function emailInput(html: string): string {
  return /<input id="convert-email"[^>]*>/.exec(html)?.[0] ?? '';
}
function fieldError(html: string, field: 'email' | 'password'): string | undefined {
  const match = new RegExp(`<p class="field-error" id="convert-${field}-error">([^<]*)</p>`).exec(html);
  return match?.[1];
}

describe('converting a guest on the account page', () => {
  beforeEach(async () => { app = await startApp(); });

  it('keeps the guest id, so the cart row keyed by it survives', async () => {
    const browser = app.browser();
    const id = await customerWithCart(browser);
    const converted = await convertAt(browser, '/account', '  Ada.Lovelace@Example.COM ', PASSWORD);
    expect(converted.status).toBe(303);
    expect(converted.headers.location).toBe('/account');
    expect(await countRows(app, 'customers')).toBe(1);
    const row = (await accountRow(app, 'customers', id))!;
    expect(row.is_anonymous).toBe(0);
    expect(await app.sql('SELECT product_id, quantity FROM cart_items WHERE account_id = ?', id))
      .toEqual([{ product_id: 'ember-mug', quantity: 2 }]);
    const account = await browser.get('/account');
    expect(account.text).toContain('Signed in as <strong>ada.lovelace@example.com</strong>');
  });

  it('stores the email trimmed and lower-cased, a bcrypt hash of the password, and claimed_at', async () => {
    const browser = app.browser();
    const id = await customerWithCart(browser);
    const before = Date.now();
    await convertAt(browser, '/account', '  Ada.Lovelace@Example.COM ', PASSWORD);
    const row = (await accountRow(app, 'customers', id))!;
    expect(row.email).toBe('ada.lovelace@example.com');
    expect(row.password_hash).toMatch(/^\$2[aby]\$10\$/);
    expect(row.password_hash).not.toContain(PASSWORD);
    expect(row.claimed_at).toBeGreaterThanOrEqual(before);
  });

  it('clears the resume cookie', async () => {
    const browser = app.browser();
    await customerWithCart(browser);
    const converted = await convertAt(browser, '/account', 'ada@example.com', PASSWORD);
    expect(clearsCookie(converted, RESUME_COOKIE)).toBe(true);
    expect(browser.cookie(RESUME_COOKIE)).toBeUndefined();
  });

  it('keeps an order placed as a guest on the order page, where the form also works', async () => {
    const browser = app.browser();
    const id = await customerWithCart(browser);
    const placed = await browser.submit('/checkout', { action: 'place-order', email: 'ada@example.com', name: 'Ada', address: '1 Loop Rd', city: 'Leeds', postcode: 'LS1' });
    const orderPage = placed.headers.location as string;
    const converted = await convertAt(browser, orderPage, 'ada@example.com', PASSWORD);
    expect(converted.status).toBe(303);
    expect(converted.headers.location).toBe(orderPage);
    const order = await browser.get(orderPage);
    expect(order.status).toBe(200);
    expect(order.text).toContain('Order confirmed');
    expect(await app.sql('SELECT account_id FROM orders')).toEqual([{ account_id: id }]);
  });

  it('counts password length in code points: 8 accented letters are enough', async () => {
    const browser = app.browser();
    await customerWithCart(browser);
    const converted = await convertAt(browser, '/account', 'ada@example.com', '\u00e9'.repeat(8));
    expect(converted.status).toBe(303);
  });

  it('accepts a password of exactly 72 bytes (24 euro signs)', async () => {
    const browser = app.browser();
    await customerWithCart(browser);
    const converted = await convertAt(browser, '/account', 'ada@example.com', '€'.repeat(24));
    expect(converted.status).toBe(303);
  });

  it('shows the converted account, not an error, when the same form is submitted again after success', async () => {
    const browser = app.browser();
    const id = await becomeGuest(browser);
    const token = csrfTokenIn((await browser.get('/try')).text)!;
    const fields = { _csrf: token, action: 'convert-guest', email: 'ada@example.com', password: PASSWORD };
    expect((await browser.post('/try', fields)).status).toBe(303);
    const again = await browser.post('/try', fields);
    expect(again.status).toBe(303);
    expect(again.headers.location).toBe('/try');
    const page = await browser.get('/try');
    expect(page.text).toContain('ada@example.com');
    expect(page.text).not.toContain('field-error');
    expect(page.text).not.toContain('already registered');
    expect(await accountRow(app, 'users', id)).toMatchObject({ email: 'ada@example.com', is_anonymous: 0 });
  });
});

describe('a conversion that fails re-renders the form with the email kept and the message next to the field', () => {
  let browser: Browser;
  let guestId: string;
  beforeEach(async () => {
    app = await startApp();
    browser = app.browser();
    guestId = await customerWithCart(browser);
  });

  const cases: Array<[string, string, string, number, 'email' | 'password', string]> = [
    ['invalid_email', 'not-an-email', PASSWORD, 422, 'email', 'Enter a valid email address, like name@example.com.'],
    ['password_too_short: 7 emoji are 7 characters', 'ada@example.com', '😀'.repeat(7), 422, 'password', 'Use at least 8 characters for your password.'],
    ['password_too_long: 25 euro signs are 75 bytes', 'ada@example.com', '€'.repeat(25), 422, 'password',
      'Use at most 72 bytes for your password (fewer if it has accents or emoji).'],
  ];

  for (const [name, email, password, status, field, message] of cases) {
    it(`answers ${status} for ${name}`, async () => {
      const page = await convertAt(browser, '/account', email, password);
      expect(page.status).toBe(status);
      expect(emailInput(page.text)).toContain(`value="${email}"`);
      expect(fieldError(page.text, field)).toBe(message);
      expect(page.text).toContain(`aria-invalid="true" aria-describedby="convert-${field}-error"`);
      expect((await accountRow(app, 'customers', guestId))!.is_anonymous).toBe(1);
    });
  }

  it('answers 409 email_in_use when the email belongs to an account in another collection, in any case', async () => {
    await register(app.browser(), 'taken@example.com');
    const page = await convertAt(browser, '/account', 'Taken@Example.com', PASSWORD);
    expect(page.status).toBe(409);
    expect(emailInput(page.text)).toContain('value="Taken@Example.com"');
    expect(fieldError(page.text, 'email')).toBe('An account with this email already exists. Sign in instead.');
    expect((await accountRow(app, 'customers', guestId))!.is_anonymous).toBe(1);
  });

  it('answers 400 not_anonymous when an account already converted is converted again with another email', async () => {
    expect((await convertAt(browser, '/try', 'first@example.com', PASSWORD)).status).toBe(303);
    const page = await convertAt(browser, '/try', 'second@example.com', PASSWORD);
    expect(page.status).toBe(400);
    expect(emailInput(page.text)).toContain('value="second@example.com"');
    expect(page.text).toContain('<p class="error" role="alert">This account is already registered.</p>');
    expect((await accountRow(app, 'customers', guestId))!.email).toBe('first@example.com');
  });
});

describe('convertGuest() called by a page', () => {
  beforeEach(async () => { app = await startFixtureApp(); });

  it('answers 401 not_signed_in when nobody is signed in', async () => {
    const page = await app.browser().submit('/convert', { email: 'ada@example.com', password: PASSWORD });
    expect(page.status).toBe(401);
    expect(textOf(page.text, 'error')).toBe('not_signed_in');
    expect(await countRows(app, 'accounts')).toBe(0);
  });

  it('answers 401 not_signed_in when the guest is removed while the conversion runs (cleanup, in another process)', async () => {
    const browser = app.browser();
    const { record } = jsonOf<{ record: { id: string } }>((await browser.get('/guest')).text, 'result');
    // The fixture page calls this once the request is signed in as the guest, just before convertGuest.
    app.ctx.globals.beforeConvert = () => app.ctx.storage.transactor.apply(app.ctx.storage.records.delete(record.id));
    const page = await browser.submit('/convert', { email: 'ada@example.com', password: PASSWORD });
    expect(page.status).toBe(401);
    expect(textOf(page.text, 'error')).toBe('not_signed_in');
    expect(await countRows(app, 'accounts')).toBe(0);
  });

  it('answers 403 "form expired" when the guest was removed with its sessions while the form was open, as cleanup removes them', async () => {
    const browser = app.browser();
    const { record } = jsonOf<{ record: { id: string } }>((await browser.get('/guest')).text, 'result');
    const token = csrfTokenIn((await browser.get('/convert')).text)!;
    await app.ctx.storage.transactor.apply(app.ctx.storage.records.delete(record.id));
    await app.ctx.sessions.index.deleteForAccount(record.id);
    const page = await browser.post('/convert', { _csrf: token, email: 'ada@example.com', password: PASSWORD });
    expect(page.status).toBe(403);
    expect(textOf(page.text, 'message')).toContain('forms expire');
    expect(await countRows(app, 'accounts')).toBe(0);
  });

  it('stores the optional name, trimmed, and refuses one over 100 characters or holding U+0000 (422)', async () => {
    const browser = app.browser();
    const { record } = jsonOf<{ record: { id: string } }>((await browser.get('/guest')).text, 'result');
    for (const name of ['A'.repeat(101), 'Ada\u0000Lovelace']) {
      const refused = await browser.submit('/convert', { email: 'ada@example.com', password: PASSWORD, name });
      expect(refused.status).toBe(422);
      expect(textOf(refused.text, 'error')).toBe('invalid_name');
    }
    const converted = await browser.submit('/convert', { email: 'ada@example.com', password: PASSWORD, name: '  Ada Lovelace ' });
    expect(textOf(converted.text, 'record')).toBe(record.id);
    expect(await firstRow(app, 'SELECT name FROM users WHERE id = ?', record.id)).toEqual({ name: 'Ada Lovelace' });
  });
});

describe('two conversions of one guest at the same time', () => {
  it('lets exactly one succeed, and the record has that one\'s email', async () => {
    app = await startApp();
    const browser = app.browser();
    const id = await becomeGuest(browser);
    const token = csrfTokenIn((await browser.get('/account')).text)!;
    const responses = await Promise.all(['one@example.com', 'two@example.com'].map((email) =>
      browser.post('/account', { _csrf: token, action: 'convert-guest', email, password: PASSWORD })));
    const winners = responses.filter((response) => response.status === 303);
    const losers = responses.filter((response) => response.status !== 303);
    expect(winners).toHaveLength(1);
    expect(losers.map((response) => response.status)).toEqual([400]);
    const winner = responses.indexOf(winners[0]!) === 0 ? 'one@example.com' : 'two@example.com';
    expect(await accountRow(app, 'users', id)).toMatchObject({ email: winner, is_anonymous: 0 });
    expect(await countOf(app, 'auth_events', `type = 'guest_converted'`)).toBe(1);
  });
});
