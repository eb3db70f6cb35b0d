/**
 * Odd input never becomes a 500: 10,000-character values get a clear 422 (or 413 when the body
 * passes the 64 kB limit), unicode is either stored exactly or refused with 422, and bodies that
 * are not well-formed UTF-8 urlencoded forms get a 400 before any page sees them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countOf, firstRow, scalar } from '../rows.ts';
import { type Browser, guestWithCart, startApp, type TestApp, raw } from '../support.ts';
import { errorFor } from '../shop/shop.ts';
import { cookieHeader, guestBrowser, PASSWORD, snapshot, tokenFor, uniqueEmail } from './attack.ts';

let app: TestApp;
beforeAll(async () => { app = await startApp(); });
afterAll(async () => { await app.close(); });

const LONG = 'x'.repeat(10_000);
const LONG_EMOJI = '😀'.repeat(10_000); // 120 kB once percent-encoded: over the body limit
const UNICODE = {
  emoji: 'Zoë 👩🏽‍💻 café',
  rtl: 'שלום \u202Eevil\u202C مرحبا',
  nul: 'before\u0000after',
  controls: 'bell\u0007escape\u001b[31m',
};
/** All but U+0000, which no backend keeps as given: PostgreSQL's text cannot hold it (src/plain-text.ts). */
const STORED_EXACTLY = Object.entries(UNICODE).filter(([kind]) => kind !== 'nul');

interface FormField {
  field: string;
  path: string;
  /** A valid submission of the form, into which one field is replaced. */
  base: () => Record<string, string>;
  /** Who submits it. */
  as: 'guest with cart' | 'visitor';
  /** The message a 422 shows for this field. */
  message: string;
}

const tooLongNote = 'Notes need some text, at most 2,000 characters.';
const badField = 'Please fill in this field (at most 200 characters).';
const badEmail = 'Enter a valid email address';
const shipping = () => ({ action: 'place-order', email: 'ada@example.com', name: 'Ada', address: '1 Road', city: 'Town', postcode: '1000' });
const validated: FormField[] = [
  { field: 'email', path: '/register', base: () => ({ email: uniqueEmail('u'), password: PASSWORD }), as: 'visitor', message: badEmail },
  { field: 'password', path: '/register', base: () => ({ email: uniqueEmail('u'), password: PASSWORD }), as: 'visitor', message: 'Use at most 72 bytes' },
  { field: 'email', path: '/account', base: () => ({ action: 'convert-guest', email: uniqueEmail('c'), password: PASSWORD }), as: 'guest with cart', message: badEmail },
  { field: 'password', path: '/account', base: () => ({ action: 'convert-guest', email: uniqueEmail('c'), password: PASSWORD }), as: 'guest with cart', message: 'Use at most 72 bytes' },
  { field: 'quantity', path: '/products/candle', base: () => ({ productId: 'candle', quantity: '1' }), as: 'guest with cart', message: 'Choose a quantity from 1 to 99.' },
  { field: 'quantity', path: '/cart', base: () => ({ action: 'update', productId: 'ember-mug', quantity: '1' }), as: 'guest with cart', message: 'Choose a quantity from 1 to 99.' },
  { field: 'name', path: '/checkout', base: shipping, as: 'guest with cart', message: badField },
  { field: 'address', path: '/checkout', base: shipping, as: 'guest with cart', message: badField },
  { field: 'city', path: '/checkout', base: shipping, as: 'guest with cart', message: badField },
  { field: 'postcode', path: '/checkout', base: shipping, as: 'guest with cart', message: badField },
  { field: 'body', path: '/try', base: () => ({ action: 'add-note', body: 'hello' }), as: 'guest with cart', message: tooLongNote },
];

async function visitorFor(kind: FormField['as']): Promise<Browser> {
  const browser = app.browser();
  if (kind === 'guest with cart') await guestWithCart(browser);
  return browser;
}

describe('10,000-character values', () => {
  for (const form of validated) {
    it(`answers 422 with the field's message for a 10,000-character ${form.field} at POST ${form.path}`, async () => {
      const browser = await visitorFor(form.as);
      const token = await tokenFor(browser, form.path);
      const before = await snapshot(app);
      const response = await browser.post(form.path, { _csrf: token, ...form.base(), [form.field]: LONG });
      expect(response.status).toBe(422);
      expect(response.text).toContain(form.message);
      expect(await snapshot(app)).toEqual(before);
    });

    it(`answers 413 for 10,000 emoji in ${form.field} at POST ${form.path} (over the body limit)`, async () => {
      const browser = await visitorFor(form.as);
      const response = await browser.submit(form.path, { ...form.base(), [form.field]: LONG_EMOJI });
      expect(response.status).toBe(413);
      expect(response.text).toContain('Too much data');
    });
  }

  it('answers 404 "not in our catalogue" for a 10,000-character product id, changing nothing', async () => {
    const browser = await visitorFor('guest with cart');
    const token = await tokenFor(browser, '/cart');
    const before = await snapshot(app);
    for (const [path, fields] of [['/products/candle', { quantity: '1' }], ['/cart', { action: 'update', quantity: '1' }], ['/cart', { action: 'remove' }]] as const) {
      const response = await browser.post(path, { _csrf: token, ...fields, productId: LONG });
      expect(response.status).toBe(404);
      expect(response.text).toContain('That product is not in our catalogue.');
    }
    expect(await snapshot(app)).toEqual(before);
  });

  it('ignores 10,000-character values in fields that only choose (action, noteId, next), changing nothing', async () => {
    const guest = await guestBrowser(app);
    const token = await tokenFor(guest, '/try');
    const visitor = app.browser();
    const visitorToken = await tokenFor(visitor, '/login');
    const before = await snapshot(app);
    for (const [path, fields] of [
      ['/try', { action: LONG }], ['/try', { action: 'delete-note', noteId: LONG }], ['/cart', { action: LONG }],
      ['/checkout', { action: LONG }], ['/account', { action: LONG }],
    ] as const) {
      const response = await guest.post(path, { _csrf: token, ...fields });
      expect([200, 303], `${path} ${Object.keys(fields).join()}`).toContain(response.status);
    }
    expect(await snapshot(app)).toEqual(before);
    // A failed sign-in is recorded in auth_events (the audit trail), so it is checked apart.
    const login = await visitor.post('/login', { _csrf: visitorToken, email: 'nobody@example.com', password: PASSWORD, next: LONG });
    expect(login.status).toBe(401);
    expect(login.text).not.toContain(LONG);
  });
});

describe('unicode', () => {
  for (const [kind, value] of STORED_EXACTLY) {
    it(`stores ${kind} text exactly in notes and shipping fields`, async () => {
      const guest = app.browser();
      await guestWithCart(guest);
      const note = await guest.submit('/try', { action: 'add-note', body: value });
      expect(note.status).toBe(303);
      const id = guest.cookie('gk.resume')!.split('.')[1]!;
      expect(await scalar(app, 'SELECT body FROM notes WHERE account_id = ?', id)).toBe(value);
      const order = await guest.submit('/checkout', { action: 'place-order', email: 'ada@example.com', name: value, address: value, city: value, postcode: value });
      expect(order.status).toBe(303);
      expect(await firstRow(app, 'SELECT name, address, city, postcode FROM orders WHERE account_id = ?', id))
        .toEqual({ name: value, address: value, city: value, postcode: value });
    });

  }

  for (const [kind, value] of Object.entries(UNICODE)) {
    it(`refuses ${kind} text as an email with 422 at registration and conversion`, async () => {
      const register = await app.browser().submit('/register', { email: value, password: PASSWORD });
      expect(register.status).toBe(422);
      const guest = await guestBrowser(app);
      const convert = await guest.submit('/account', { action: 'convert-guest', email: value, password: PASSWORD });
      expect(convert.status).toBe(422);
    });
  }

  it('refuses nul text (U+0000) in a note and in every shipping field with the field\'s 422, storing nothing', async () => {
    const guest = app.browser();
    await guestWithCart(guest);
    const [tryToken, checkoutToken] = [await tokenFor(guest, '/try'), await tokenFor(guest, '/checkout')];
    const before = await snapshot(app);
    const note = await guest.post('/try', { _csrf: tryToken, action: 'add-note', body: UNICODE.nul });
    expect(note.status).toBe(422);
    expect(errorFor(note.text, 'body')).toBe(tooLongNote);
    const order = await guest.post('/checkout', {
      _csrf: checkoutToken, action: 'place-order', email: 'ada@example.com', name: UNICODE.nul, address: UNICODE.nul, city: UNICODE.nul, postcode: UNICODE.nul,
    });
    expect(order.status).toBe(422);
    for (const field of ['name', 'address', 'city', 'postcode']) expect(errorFor(order.text, field), field).toBe(badField);
    expect(await snapshot(app)).toEqual(before);
  });

  it('treats U+0000 in a product id, a resume cookie or a sign-in email as any unknown value: 404, signed out, 401', async () => {
    const guest = app.browser();
    await guestWithCart(guest);
    const product = await guest.submit('/products/candle', { productId: 'can\u0000dle', quantity: '1' });
    expect(product.status).toBe(404);
    expect(product.text).toContain('That product is not in our catalogue.');
    const resumed = await raw(app, { path: '/account', headers: { cookie: `gk.resume=${encodeURIComponent('users.some\u0000id.secret')}` } });
    expect(resumed.status).toBe(302);
    const login = await app.browser().submit('/login', { email: 'vic\u0000tim@example.com', password: PASSWORD });
    expect(login.status).toBe(401);
    expect(login.text).toContain('Email or password is incorrect.');
  });

  it('refuses an email hiding a NUL or control character (a C mail library would cut it short)', async () => {
    for (const email of ['victim@example.com\u0000.evil.example', 'victim\u0000@example.com', 'vic\u0001tim@example.com', 'victim@exa\u007fmple.com']) {
      const response = await app.browser().submit('/register', { email, password: PASSWORD });
      expect(response.status, JSON.stringify(email)).toBe(422);
      expect(response.text).toContain(badEmail);
    }
    expect(await countOf(app, 'users', `lower(email) LIKE 'vic%'`)).toBe(0);
  });

  it('accepts emoji passwords by code points and bytes (8 emoji: 8 code points, 32 bytes)', async () => {
    const response = await app.browser().submit('/register', { email: uniqueEmail('emoji'), password: '🔑'.repeat(8) });
    expect(response.status).toBe(303);
  });
});

describe('malformed bodies', () => {
  let cookie: string;
  let token: string;
  beforeAll(async () => {
    const guest = await guestBrowser(app);
    cookie = cookieHeader(guest);
    token = await tokenFor(guest, '/try');
  });
  const send = (body: string | Buffer, headers: Record<string, string> = {}) =>
    raw(app, { method: 'POST', path: '/try', body, headers: { cookie, ...headers } });

  const malformed: Array<[string, () => string | Buffer]> = [
    ['a bad percent-escape (%ZZ)', () => `_csrf=${token}&action=add-note&body=%ZZ`],
    ['a truncated percent-escape', () => `_csrf=${token}&action=add-note&body=%E0%A4%A`],
    ['a lone %', () => `_csrf=${token}&action=add-note&body=100%`],
    ['invalid UTF-8 bytes', () => Buffer.concat([Buffer.from(`_csrf=${token}&action=add-note&body=`), Buffer.from([0xff, 0xfe, 0xfd])])],
    ['percent-encoded invalid UTF-8', () => `_csrf=${token}&action=add-note&body=%C3%28`],
    ['an overlong UTF-8 encoding of "."', () => `_csrf=${token}&action=add-note&body=%C0%AE`],
    ['an encoded UTF-16 surrogate', () => `_csrf=${token}&action=add-note&body=%ED%A0%80`],
    ['a gzip body that is not gzip', () => Buffer.from('not gzip at all')],
  ];

  for (const [what, body] of malformed) {
    it(`answers 400 to ${what}, storing nothing`, async () => {
      const before = await snapshot(app);
      const response = await send(body(), what.startsWith('a gzip') ? { 'content-encoding': 'gzip' } : {});
      expect(response.status).toBe(400);
      expect(response.body).toContain('The form data could not be read');
      expect(await snapshot(app)).toEqual(before);
    });
  }

  it('answers 413 to more than 200 fields and to a body over 64 kB', async () => {
    const manyFields = `_csrf=${token}&` + Array.from({ length: 300 }, (_, i) => `f${i}=1`).join('&');
    expect((await send(manyFields)).status).toBe(413);
    expect((await send(`_csrf=${token}&action=add-note&body=${'x'.repeat(70_000)}`)).status).toBe(413);
  });

  it('answers 415 with a readable page to an unknown content encoding', async () => {
    const response = await send(Buffer.from('x'), { 'content-encoding': 'x-unknown' });
    expect(response.status).toBe(415);
    expect(response.body).not.toContain('on our side');
  });

  it('answers 403, not 500, to a form sent as JSON or multipart (no token is read from them)', async () => {
    const json = await send(JSON.stringify({ _csrf: token, action: 'add-note', body: 'json' }), { 'content-type': 'application/json' });
    expect(json.status).toBe(403);
    const multipart = await send(`--b\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${token}\r\n--b--\r\n`,
      { 'content-type': 'multipart/form-data; boundary=b' });
    expect(multipart.status).toBe(403);
  });

  it('treats repeated fields as invalid input, never a 500', async () => {
    for (const body of [
      `_csrf=${token}&action=add-note&action=delete-note&body=x`,
      `_csrf=${token}&action=add-note&body=a&body=b`,
      `_csrf=${token}&__proto__=x&constructor=y&action=add-note&body=proto`,
    ]) {
      const response = await send(body);
      expect(response.status, body).toBeLessThan(500);
    }
  });
});

describe('odd cookies and headers', () => {
  it('ignores malformed session and resume cookies', async () => {
    for (const cookie of ['gk.sid=%E0%A4%A', 'gk.resume=%E0%A4%A', 'gk.sid=; gk.resume=', 'gk.resume=users..', 'gk.resume=users.x.y.z',
      `gk.resume=${'a'.repeat(4000)}`, 'gk.sid=s%3A' + 'a'.repeat(4000)]) {
      const response = await raw(app, { path: '/account', headers: { cookie } });
      expect(response.status, cookie.slice(0, 40)).toBe(302);
    }
  });

  it('answers 431 to headers over the server limit, without reaching the app', async () => {
    const response = await raw(app, { path: '/', headers: { cookie: `x=${'a'.repeat(20_000)}` } });
    expect(response.status).toBe(431);
  });
});
