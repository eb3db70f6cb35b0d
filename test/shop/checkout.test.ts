import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, register } from '../visitors.ts';
import { failInserts, firstRow } from '../rows.ts';
import { csrfTokenIn, startApp, type Browser, type TestApp } from '../support.ts';
import {
  accountIdOf, addToCart, countRowsWhere, errorFor, flashesOf, guestIdOf, placeOrder, RECEIPT_EMAIL, seedSection, sessionOf, SHIPPING, storedCart,
  submitOrder, valueOf,
} from './shop.ts';

let app: TestApp;
beforeAll(async () => { app = await startApp(); });
afterAll(async () => { await app.close(); });

/** Seed 003's "Guest Checkout Flow" example, exactly as the seed prints it. */
const seedGuestCheckout = () => seedSection('Guest Checkout Flow', 'Try Before You Buy');

/** The static part of the seed's example (after its `%>`), as a browser receives it (a CSRF field added). */
function seedCheckoutOptions(): string {
  const example = seedGuestCheckout();
  return example.slice(example.lastIndexOf('%>\n') + 3);
}

async function guestAtCheckout(browser: Browser): Promise<string> {
  await addToCart(browser, 'ember-mug', 2);
  await addToCart(browser, 'candle', 1);
  const response = await browser.submit('/checkout', { action: 'guest-checkout' });
  expect(response.status).toBe(303);
  return guestIdOf(browser);
}

function ordersOf(accountId: string): Promise<Array<Record<string, unknown>>> {
  return app.sql('SELECT * FROM orders WHERE account_id = ?', accountId);
}

describe('GET /checkout for a visitor who is not signed in', () => {
  it('renders the seed\'s guest checkout example verbatim: Continue as Guest, or Sign In', async () => {
    expect(fs.readFileSync('views/pages/checkout.eta', 'utf8')).toContain(seedGuestCheckout());
    const browser = app.browser();
    await addToCart(browser, 'ember-mug', 1);
    const response = await browser.get('/checkout');
    expect(response.status).toBe(200);
    const html = response.text.replace(/<input type="hidden" name="_csrf" value="[^"]+">/, '');
    expect(html).toContain(seedCheckoutOptions());
    expect(response.text).not.toContain('value="place-order"');
  });

  it('shows what is in the cart above the options', async () => {
    const browser = app.browser();
    await addToCart(browser, 'ember-mug', 2);
    const response = await browser.get('/checkout');
    expect(response.text).toContain('<li><span>2 × Ember Mug</span> <span>$36.00</span></li>');
  });

  it('places no order when a place-order form is posted without signing in, and still offers the options', async () => {
    const browser = app.browser();
    await addToCart(browser, 'ember-mug', 1);
    const before = await countRowsWhere(app, 'orders', 'TRUE');
    const response = await submitOrder(browser);
    expect(response.text).toContain('Continue as Guest');
    expect(await countRowsWhere(app, 'orders', 'TRUE')).toBe(before);
    expect((await sessionOf(app, browser))?.cart).toEqual({ 'ember-mug': 1 });
  });
});

describe('POST /checkout action=guest-checkout', () => {
  it('signs the visitor in as a customers guest, moves the cart onto it and redirects to /checkout', async () => {
    const browser = app.browser();
    const guestId = await guestAtCheckout(browser);
    expect(await firstRow(app, 'SELECT is_anonymous FROM customers WHERE id = ?', guestId)).toEqual({ is_anonymous: 1 });
    expect(await storedCart(app, guestId)).toEqual({ 'ember-mug': 2, candle: 1 });
    expect((await sessionOf(app, browser))?.cart).toBeUndefined();
  });

  it('answers 403 without the CSRF token and creates no guest', async () => {
    const browser = app.browser();
    await addToCart(browser, 'ember-mug', 1);
    const before = await countRowsWhere(app, 'accounts', 'TRUE');
    const response = await browser.post('/checkout', { action: 'guest-checkout' });
    expect(response.status).toBe(403);
    expect(await countRowsWhere(app, 'accounts', 'TRUE')).toBe(before);
    expect(browser.cookie('gk.resume')).toBeUndefined();
  });

  it('shows the seed\'s "Failed to create guest account" message when guest accounts are switched off, keeping the cart', async () => {
    const closed = await startApp({ ANONYMOUS_ENABLED: 'false' });
    try {
      const browser = closed.browser();
      await addToCart(browser, 'ember-mug', 1);
      const response = await browser.submit('/checkout', { action: 'guest-checkout' });
      expect(response.text).toMatch(/<div class="error">\s*Failed to create guest account: Guest accounts are not available right now\.\s*<\/div>/);
      expect(response.text).toContain('Continue as Guest');
      expect(await countRowsWhere(closed, 'accounts', 'TRUE')).toBe(0);
      expect((await sessionOf(closed, browser))?.cart).toEqual({ 'ember-mug': 1 });
    } finally {
      await closed.close();
    }
  });
});

describe('GET /checkout for a signed-in visitor', () => {
  it('shows a guest the place-order form (name, address, city, postcode) instead of the options', async () => {
    const browser = app.browser();
    await guestAtCheckout(browser);
    const response = await browser.get('/checkout');
    expect(response.status).toBe(200);
    expect(response.text).toContain('<input type="hidden" name="action" value="place-order">');
    for (const field of ['name', 'address', 'city', 'postcode']) {
      expect(response.text).toMatch(new RegExp(`<label for="${field}">[^<]+</label>\\s*<input id="${field}" name="${field}"`));
    }
    expect(response.text).toMatch(/<button type="submit" class="button">Place order<\/button>/);
    expect(response.text).not.toContain('Continue as Guest');
  });

  it('offers a guest a way to sign in that comes back to checkout with the cart merged into the account', async () => {
    const owner = app.browser();
    await register(owner, 'has-account@example.com');
    await addToCart(owner, 'tea-tin', 1);
    await owner.submit('/logout', {}, '/');
    const browser = app.browser();
    await guestAtCheckout(browser);
    const checkout = await browser.get('/checkout');
    expect(checkout.text).toContain('<a href="/login?next=%2Fcheckout">Sign in</a>');
    const signedIn = await browser.submit('/login?next=%2Fcheckout', { email: 'has-account@example.com', password: PASSWORD, next: '/checkout' });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.location).toBe('/checkout');
    expect(await storedCart(app, await accountIdOf(app, 'has-account@example.com'))).toEqual({ 'tea-tin': 1, 'ember-mug': 2, candle: 1 });
    const after = await browser.get('/checkout');
    expect(after.text).toContain('value="place-order"');
    expect(after.text).not.toContain('href="/login?next=%2Fcheckout"');
  });

  it('shows a registered user the place-order form too', async () => {
    const browser = app.browser();
    await register(browser, 'checkout-user@example.com');
    await addToCart(browser, 'oak-board', 1);
    const response = await browser.get('/checkout');
    expect(response.text).toContain('value="place-order"');
    expect(response.text).not.toContain('Continue as Guest');
  });
});

describe('POST /checkout action=place-order', () => {
  it('stores the order with its lines at today\'s prices, empties the cart and redirects to /orders/<id> with a thank-you', async () => {
    const browser = app.browser();
    const guestId = await guestAtCheckout(browser);
    const response = await submitOrder(browser);
    expect(response.status).toBe(303);
    const id = /^\/orders\/(.+)$/.exec(response.headers.location ?? '')?.[1];
    expect(id).toBeTruthy();
    expect(await ordersOf(guestId)).toEqual([expect.objectContaining({ id, total_cents: 2 * 1800 + 2400, ...SHIPPING })]);
    expect(await app.sql('SELECT product_id, name, unit_price_cents, quantity FROM order_lines WHERE order_id = ? ORDER BY position', id))
      .toEqual([
        { product_id: 'ember-mug', name: 'Ember Mug', unit_price_cents: 1800, quantity: 2 },
        { product_id: 'candle', name: 'Cedar Candle', unit_price_cents: 2400, quantity: 1 },
      ]);
    expect(await storedCart(app, guestId)).toEqual({});
    const page = await browser.get(`/orders/${id}`);
    expect(flashesOf(page.text)).toEqual(['Thank you! Your order is placed.']);
    expect((await browser.get('/cart')).text).toContain('Your cart is empty.');
  });

  it('keeps the price paid on the order when the catalogue price changes later', async () => {
    const browser = app.browser();
    await register(browser, 'price-watcher@example.com');
    await addToCart(browser, 'tote-bag', 2);
    const id = await placeOrder(browser);
    await app.sql("UPDATE products SET price_cents = 9900 WHERE id = 'tote-bag'");
    try {
      const page = await browser.get(`/orders/${id}`);
      expect(page.text).toContain('<li><span>2 × Canvas Tote</span> <span>$44.00</span></li>');
      expect(page.text).toContain('Total <strong>$44.00</strong>');
    } finally {
      await app.sql("UPDATE products SET price_cents = 2200 WHERE id = 'tote-bag'");
    }
  });

  it('stores nothing and keeps the cart when any part of the order fails to save (one transaction)', async () => {
    const browser = app.browser();
    const guestId = await guestAtCheckout(browser);
    // The second line's insert fails, after the order row and the first line were written.
    const restore = await failInserts(app, 'order_lines', "NEW.product_id = 'candle'", 'disk full');
    try {
      const response = await submitOrder(browser);
      expect(response.status).toBe(500);
    } finally {
      await restore();
    }
    expect(await ordersOf(guestId)).toEqual([]);
    expect(await countRowsWhere(app, 'order_lines', "order_id NOT IN (SELECT id FROM orders)")).toBe(0);
    expect(await storedCart(app, guestId)).toEqual({ 'ember-mug': 2, candle: 1 });
  });

  it('places one order for a double click on "Place order" (two submissions at once)', async () => {
    const browser = app.browser();
    const guestId = await guestAtCheckout(browser);
    const token = csrfTokenIn((await browser.get('/checkout')).text)!;
    const form = { _csrf: token, action: 'place-order', email: RECEIPT_EMAIL, ...SHIPPING };
    const statuses = (await Promise.all([browser.post('/checkout', form), browser.post('/checkout', form)])).map((r) => r.status);
    expect(statuses.sort()).toEqual([303, 409]);
    expect(await ordersOf(guestId)).toHaveLength(1);
  });

  it('answers 409 with a clear message when the cart is empty, and stores no order', async () => {
    const browser = app.browser();
    const guestId = await guestAtCheckout(browser);
    await placeOrder(browser);
    const response = await submitOrder(browser);
    expect(response.status).toBe(409);
    expect(response.text).toContain('<p class="error" role="alert">Your cart is empty: add something before checking out.</p>');
    expect(await ordersOf(guestId)).toHaveLength(1);
  });

  it.each(['name', 'address', 'city', 'postcode'])('answers 422 when %s is missing, with the error next to it and the other values kept', async (field) => {
    const browser = app.browser();
    const guestId = await guestAtCheckout(browser);
    const response = await submitOrder(browser, { ...SHIPPING, [field]: '   ' });
    expect(response.status).toBe(422);
    expect(errorFor(response.text, field)).toBe('Please fill in this field (at most 200 characters).');
    for (const [other, value] of Object.entries(SHIPPING)) {
      if (other !== field) expect(valueOf(response.text, other)).toBe(value);
    }
    expect(await ordersOf(guestId)).toEqual([]);
    expect(await storedCart(app, guestId)).toEqual({ 'ember-mug': 2, candle: 1 });
  });

  it('answers 422 when a field is longer than 200 characters, keeping what was typed; exactly 200 is accepted', async () => {
    const browser = app.browser();
    const guestId = await guestAtCheckout(browser);
    const long = 'Rue de la Paix '.repeat(14); // 210 characters
    const refused = await submitOrder(browser, { ...SHIPPING, address: long });
    expect(refused.status).toBe(422);
    expect(errorFor(refused.text, 'address')).toBe('Please fill in this field (at most 200 characters).');
    expect(valueOf(refused.text, 'address')).toBe(long);
    expect(await ordersOf(guestId)).toEqual([]);
    const placed = await submitOrder(browser, { ...SHIPPING, address: 'é'.repeat(200) });
    expect(placed.status).toBe(303);
    expect(await ordersOf(guestId)).toEqual([expect.objectContaining({ address: 'é'.repeat(200) })]);
  });

  it('escapes what was typed when the form is re-rendered', async () => {
    const browser = app.browser();
    await guestAtCheckout(browser);
    const response = await submitOrder(browser, { ...SHIPPING, name: '"><script>alert(1)</script>', city: '' });
    expect(response.status).toBe(422);
    expect(response.text).not.toContain('<script>alert(1)</script>');
    expect(valueOf(response.text, 'name')).toBe('"><script>alert(1)</script>');
  });

  it('answers 403 without the CSRF token and places nothing', async () => {
    const browser = app.browser();
    const guestId = await guestAtCheckout(browser);
    const response = await browser.post('/checkout', { action: 'place-order', ...SHIPPING });
    expect(response.status).toBe(403);
    expect(await ordersOf(guestId)).toEqual([]);
    expect(await storedCart(app, guestId)).toEqual({ 'ember-mug': 2, candle: 1 });
  });

  it('places a registered user\'s order under their account', async () => {
    const browser = app.browser();
    await register(browser, 'buyer@example.com');
    await addToCart(browser, 'desk-lamp', 1);
    const id = await placeOrder(browser);
    expect(await ordersOf(await accountIdOf(app, 'buyer@example.com'))).toEqual([expect.objectContaining({ id, total_cents: 11900 })]);
  });
});
