import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { firstRow, scalar } from '../rows.ts';
import { guestWithCart, startApp, type Browser, type TestApp } from '../support.ts';
import {
  accountRow, clearsCookie, eventsOf, getWithCookies, parseResumeToken, PASSWORD, register, RESUME_COOKIE,
} from '../visitors.ts';

let app: TestApp;
beforeEach(async () => { app = await startApp(); });
afterEach(async () => { await app.close(); });

/** An existing account (registered from another browser); returns its id. */
async function existingAccount(email: string): Promise<string> {
  await register(app.browser(), email);
  return (await scalar<string>(app, 'SELECT id FROM users WHERE email = ?', email))!;
}

/** A `customers` guest with an order, a cart line and a note; returns its id. */
async function busyGuest(browser: Browser): Promise<string> {
  await guestWithCart(browser, [['candle', 1]]);
  const placed = await browser.submit('/checkout', { action: 'place-order', email: 'ada@example.com', name: 'Ada', address: '1 Loop Rd', city: 'Leeds', postcode: 'LS1' });
  if (placed.status !== 303) throw new Error(`placing the order answered ${placed.status}`);
  await browser.submit('/products/ember-mug', { productId: 'ember-mug', quantity: '2' });
  await browser.submit('/try', { action: 'add-note', body: 'gift ideas' });
  return parseResumeToken(browser.cookie(RESUME_COOKIE)!).id;
}

function rowsOf(table: string, accountId: string): Promise<unknown[]> {
  return app.sql(`SELECT * FROM ${table} WHERE account_id = ?`, accountId);
}

describe('a guest who signs in to an existing account', () => {
  it('brings their cart lines, notes and orders to the account, and the guest record is deleted', async () => {
    const userId = await existingAccount('owner@example.com');
    const browser = app.browser();
    const guestId = await busyGuest(browser);

    const signedIn = await browser.submit('/login', { email: 'owner@example.com', password: PASSWORD });
    expect(signedIn.status).toBe(303);

    expect(await app.sql('SELECT product_id, quantity FROM cart_items WHERE account_id = ?', userId))
      .toEqual([{ product_id: 'ember-mug', quantity: 2 }]);
    expect(await app.sql('SELECT body FROM notes WHERE account_id = ?', userId)).toEqual([{ body: 'gift ideas' }]);
    expect(await rowsOf('orders', userId)).toHaveLength(1);
    for (const table of ['cart_items', 'notes', 'orders']) expect(await rowsOf(table, guestId), table).toEqual([]);
    expect(await accountRow(app, 'customers', guestId)).toBeUndefined();
    expect(await firstRow(app, 'SELECT * FROM accounts WHERE id = ?', guestId)).toBeUndefined();

    const account = await browser.get('/account');
    expect(account.text).toContain('Signed in as <strong>owner@example.com</strong>');
    expect(account.text).toContain('<ul class="order-list">');
    expect((await browser.get('/try')).text).toContain('gift ideas');
  });

  it('adds the guest\'s quantities to lines already in the account\'s cart', async () => {
    const userId = await existingAccount('owner@example.com');
    const owner = app.browser();
    await owner.submit('/login', { email: 'owner@example.com', password: PASSWORD });
    await owner.submit('/products/candle', { productId: 'candle', quantity: '1' });
    const browser = app.browser();
    await guestWithCart(browser, [['candle', 2]]);
    await browser.submit('/login', { email: 'owner@example.com', password: PASSWORD });
    expect(await app.sql('SELECT product_id, quantity FROM cart_items WHERE account_id = ?', userId))
      .toEqual([{ product_id: 'candle', quantity: 3 }]);
  });

  it('records guest_merged, clears the resume cookie, and the old resume token signs nobody in', async () => {
    const userId = await existingAccount('owner@example.com');
    const browser = app.browser();
    const guestId = await busyGuest(browser);
    const token = browser.cookie(RESUME_COOKIE)!;

    const signedIn = await browser.submit('/login', { email: 'owner@example.com', password: PASSWORD });
    expect(clearsCookie(signedIn, RESUME_COOKIE)).toBe(true);
    expect(await eventsOf(app, 'guest_merged')).toEqual([
      expect.objectContaining({ record_id: guestId, collection: 'customers', detail: JSON.stringify({ into: userId }) }),
    ]);
    const resumed = await getWithCookies(app, '/account', { [RESUME_COOKIE]: token });
    expect(resumed.status).toBe(302);
  });

  it('keeps the guest and its work when the sign-in fails', async () => {
    await existingAccount('owner@example.com');
    const browser = app.browser();
    const guestId = await busyGuest(browser);
    const failed = await browser.submit('/login', { email: 'owner@example.com', password: 'not the password' });
    expect(failed.status).toBe(401);
    expect((await accountRow(app, 'customers', guestId))?.is_anonymous).toBe(1);
    expect(await rowsOf('notes', guestId)).toHaveLength(1);
    expect(await eventsOf(app, 'guest_merged')).toEqual([]);
  });
});
