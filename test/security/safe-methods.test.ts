/**
 * GET and HEAD never change state, whatever the query string says: an `<img src>` or a link on
 * another site can make a browser send them with its cookies, and no token protects them. The
 * query strings below mimic each form's fields. The one exception (the seed's try-before-you-buy
 * page creating a guest for a new visitor) is covered in abuse.test.ts: rate-limited, and
 * crawlers never trigger it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countOf, scalar } from '../rows.ts';
import { type Browser, guestWithCart, startApp, type TestApp } from '../support.ts';
import { expectRedirect, PASSWORD, registeredBrowser, signedInAs, snapshot, tokenFor, uniqueEmail } from './attack.ts';

let app: TestApp;
let signedOut: Browser;
let guest: Browser;
let registered: Browser;
const account = { email: uniqueEmail('owner'), password: PASSWORD };
let orderId: string;

beforeAll(async () => {
  app = await startApp();
  signedOut = app.browser();
  expectRedirect(await signedOut.submit('/products/candle', { productId: 'candle', quantity: '1' }), 'add to cart');
  await signedOut.get('/cart');

  guest = app.browser();
  await guestWithCart(guest);
  const placed = await guest.submit('/checkout', { action: 'place-order', email: 'ada@example.com', name: 'Ada', address: '1 Road', city: 'Town', postcode: '1000' });
  expectRedirect(placed, 'placing an order');
  orderId = placed.headers.location!.split('/').pop()!;
  expectRedirect(await guest.submit('/products/tea-tin', { productId: 'tea-tin', quantity: '2' }), 'add to cart');
  expectRedirect(await guest.submit('/try', { action: 'add-note', body: 'a note' }), 'adding a note');
  await guest.get('/try');

  registered = await registeredBrowser(app, account.email, account.password);
  expectRedirect(await registered.submit('/products/oak-board', { productId: 'oak-board', quantity: '1' }), 'add to cart');
  await registered.get('/cart');
});
afterAll(async () => { await app.close(); });

/** Every page, with a query string shaped like the form it holds (`noteId` the latest note's). */
const pages = (noteId: string): string[] => [
  '/?action=place-order',
  '/products/candle?productId=candle&quantity=5',
  '/cart?action=update&productId=ember-mug&quantity=9',
  '/cart?action=remove&productId=ember-mug',
  '/checkout?action=guest-checkout',
  '/checkout?action=place-order&email=m%40example.com&name=M&address=A&city=C&postcode=P',
  `/account?action=convert-guest&email=${encodeURIComponent(uniqueEmail('get'))}&password=${PASSWORD}`,
  `/account?action=change-password&currentPassword=${PASSWORD}&newPassword=changed-by-get`,
  `/account?action=delete-account&password=${PASSWORD}`,
  `/register?email=${encodeURIComponent(uniqueEmail('get'))}&password=${PASSWORD}`,
  `/login?email=${encodeURIComponent(account.email)}&password=${PASSWORD}`,
  '/logout?forget=yes',
  '/try?action=add-note&body=from-a-get',
  `/try?action=delete-note&noteId=${noteId}`,
  `/orders/${orderId}?action=convert-guest&email=${encodeURIComponent(uniqueEmail('get'))}&password=${PASSWORD}`,
];

/** The try page signs a new visitor in as a guest (the exception tested below), so signed-out visitors skip it. */
const visitors = async () => {
  const all = pages(String(await scalar(app, 'SELECT max(id) FROM notes')));
  return [
    { who: 'a signed-out visitor with a session cart', browser: signedOut, pages: all.filter((path) => !path.startsWith('/try')) },
    { who: 'a guest with a cart, an order and a note', browser: guest, pages: all },
    { who: 'a registered user with a cart', browser: registered, pages: all },
  ];
};

describe('GET and HEAD with form-shaped query strings', () => {
  for (const method of ['GET', 'HEAD'] as const) {
    it(`${method} of every page changes nothing for any kind of visitor`, async () => {
      for (const { who, browser, pages } of await visitors()) {
        const identity = await signedInAs(browser);
        const before = await snapshot(app);
        for (const path of pages) {
          const request = method === 'GET' ? browser.get(path) : browser.agent.head(path).set('User-Agent', browser.userAgent);
          const response = await request;
          expect(response.status, `${method} ${path} as ${who}`).toBeLessThan(500);
        }
        expect(await snapshot(app), who).toEqual(before);
        expect(await signedInAs(browser), who).toBe(identity);
      }
    });
  }

  it('ignores method-override headers and _method parameters on GET', async () => {
    for (const { who, browser, pages } of await visitors()) {
      const before = await snapshot(app);
      for (const path of pages) {
        await browser.get(`${path}&_method=POST`).set('X-HTTP-Method-Override', 'POST').set('X-Method-Override', 'POST');
      }
      expect(await snapshot(app), who).toEqual(before);
    }
  });
});

describe('the try-before-you-buy exception', () => {
  it('GET /try signs a new visitor in as a guest but does nothing its query string asks', async () => {
    const visitor = app.browser();
    const notes = () => countOf(app, 'notes');
    const users = () => countOf(app, 'users');
    const [notesBefore, usersBefore] = [await notes(), await users()];
    await visitor.get('/try?action=add-note&body=from-a-get');
    await visitor.get('/try?action=add-note&body=from-a-get');
    expect(await users()).toBe(usersBefore + 1);
    expect(await notes()).toBe(notesBefore);
    expect(await signedInAs(visitor)).toBe('guest');
  });
});

describe('other methods', () => {
  it('answers 405 to PUT, PATCH and DELETE even with a valid token, and changes nothing', async () => {
    const token = await tokenFor(registered, '/account');
    const before = await snapshot(app);
    for (const method of ['put', 'patch', 'delete'] as const) {
      const response = await registered.agent[method]('/account').set('User-Agent', registered.userAgent).type('form')
        .send({ _csrf: token, action: 'delete-account', password: PASSWORD });
      expect(response.status, method).toBe(405);
    }
    expect(await snapshot(app)).toEqual(before);
    expect(await signedInAs(registered)).toBe(account.email);
  });
});
