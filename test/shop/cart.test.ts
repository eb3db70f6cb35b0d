import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '../visitors.ts';
import { startApp, type Browser, type TestApp } from '../support.ts';
import { accountIdOf, addToCart, countRowsWhere, errorFor, guestIdOf, sessionOf, storedCart, valueOf } from './shop.ts';

let app: TestApp;
beforeAll(async () => { app = await startApp(); });
afterAll(async () => { await app.close(); });

function update(browser: Browser, productId: string, quantity: string) {
  return browser.submit('/cart', { action: 'update', productId, quantity });
}
function remove(browser: Browser, productId: string) {
  return browser.submit('/cart', { action: 'remove', productId });
}

describe('GET /cart', () => {
  it('says the cart is empty, with a link to the products, before anything is added', async () => {
    const response = await app.browser().get('/cart');
    expect(response.status).toBe(200);
    expect(response.text).toContain('Your cart is empty.');
    expect(response.text).not.toContain('href="/checkout"');
  });

  it('lists each line with its quantity, line price and the total, and links to checkout', async () => {
    const browser = app.browser();
    await addToCart(browser, 'ember-mug', 2);
    await addToCart(browser, 'wool-throw', 1);
    const response = await browser.get('/cart');
    expect(response.status).toBe(200);
    expect(response.text).toMatch(/<a href="\/products\/ember-mug">Ember Mug<\/a>[\s\S]*value="2"[\s\S]*\$36\.00/);
    expect(response.text).toMatch(/<a href="\/products\/wool-throw">Wool Throw<\/a>[\s\S]*value="1"[\s\S]*\$89\.00/);
    expect(response.text).toContain('<td class="total">$125.00</td>');
    expect(response.text).toContain('href="/checkout"');
  });

  it('shows the item count in the header', async () => {
    const browser = app.browser();
    await addToCart(browser, 'ember-mug', 2);
    await addToCart(browser, 'candle', 3);
    const response = await browser.get('/');
    expect(response.text).toContain('<span class="badge" aria-label="5 items">5</span>');
  });
});

describe('POST /cart before any sign-in (the cart lives in the session)', () => {
  it('keeps the lines in the session, not in the database', async () => {
    const browser = app.browser();
    await addToCart(browser, 'pour-over', 2);
    expect((await sessionOf(app, browser))?.cart).toEqual({ 'pour-over': 2 });
    expect((await sessionOf(app, browser))?.auth).toBeUndefined();
  });

  it('action=update sets the quantity and redirects back to the cart', async () => {
    const browser = app.browser();
    await addToCart(browser, 'pour-over', 2);
    const response = await update(browser, 'pour-over', '5');
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/cart');
    expect((await sessionOf(app, browser))?.cart).toEqual({ 'pour-over': 5 });
  });

  it('action=remove takes the line out', async () => {
    const browser = app.browser();
    await addToCart(browser, 'pour-over', 2);
    await addToCart(browser, 'candle', 1);
    const response = await remove(browser, 'pour-over');
    expect(response.status).toBe(303);
    expect((await sessionOf(app, browser))?.cart).toEqual({ candle: 1 });
    expect((await browser.get('/cart')).text).not.toContain('Pour-Over Set');
  });

  it.each(['0', '100', 'abc', ''])('refuses to update to quantity %j with 422, the message on that line with what was typed, the cart unchanged', async (quantity) => {
    const browser = app.browser();
    await addToCart(browser, 'pour-over', 2);
    await addToCart(browser, 'candle', 1);
    const response = await update(browser, 'pour-over', quantity);
    expect(response.status).toBe(422);
    expect(errorFor(response.text, 'qty-pour-over')).toBe('Choose a quantity from 1 to 99.');
    expect(valueOf(response.text, 'qty-pour-over')).toBe(quantity);
    expect(errorFor(response.text, 'qty-candle')).toBeUndefined();
    expect(valueOf(response.text, 'qty-candle')).toBe('1');
    expect(response.text).not.toContain('role="alert"');
    expect((await sessionOf(app, browser))?.cart).toEqual({ 'pour-over': 2, candle: 1 });
  });

  it('refuses to update or remove an unknown product with 404 and a message, the cart unchanged', async () => {
    const browser = app.browser();
    await addToCart(browser, 'pour-over', 2);
    for (const response of [await update(browser, 'unicorn-saddle', '1'), await remove(browser, 'unicorn-saddle')]) {
      expect(response.status).toBe(404);
      expect(response.text).toContain('<p class="error" role="alert">That product is not in our catalogue.</p>');
    }
    expect((await sessionOf(app, browser))?.cart).toEqual({ 'pour-over': 2 });
  });

  it('does not add a product by updating a line the cart does not have', async () => {
    const browser = app.browser();
    await addToCart(browser, 'pour-over', 2);
    await update(browser, 'candle', '3');
    expect((await sessionOf(app, browser))?.cart).toEqual({ 'pour-over': 2 });
  });

  it('answers 403 to an update or remove without the CSRF token, and changes nothing', async () => {
    const browser = app.browser();
    await addToCart(browser, 'pour-over', 2);
    expect((await browser.post('/cart', { action: 'update', productId: 'pour-over', quantity: '9' })).status).toBe(403);
    expect((await browser.post('/cart', { action: 'remove', productId: 'pour-over' })).status).toBe(403);
    expect((await sessionOf(app, browser))?.cart).toEqual({ 'pour-over': 2 });
  });
});

describe('the cart at guest checkout', () => {
  it('moves from the session onto the new guest record, keyed by its id', async () => {
    const browser = app.browser();
    await addToCart(browser, 'ember-mug', 2);
    await addToCart(browser, 'fountain-pen', 1);
    const response = await browser.submit('/checkout', { action: 'guest-checkout' });
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/checkout');
    const guestId = guestIdOf(browser);
    expect(await storedCart(app, guestId)).toEqual({ 'ember-mug': 2, 'fountain-pen': 1 });
    expect((await sessionOf(app, browser))?.cart).toBeUndefined();
    const cart = await browser.get('/cart');
    expect(cart.text).toContain('<td class="total">$82.00</td>');
  });

  it('is then updated and removed in the database', async () => {
    const browser = app.browser();
    await addToCart(browser, 'ember-mug', 2);
    await addToCart(browser, 'fountain-pen', 1);
    await browser.submit('/checkout', { action: 'guest-checkout' });
    const guestId = guestIdOf(browser);
    expect((await update(browser, 'ember-mug', '4')).status).toBe(303);
    expect((await remove(browser, 'fountain-pen')).status).toBe(303);
    expect(await storedCart(app, guestId)).toEqual({ 'ember-mug': 4 });
    expect((await update(browser, 'ember-mug', '0')).status).toBe(422);
    expect(await storedCart(app, guestId)).toEqual({ 'ember-mug': 4 });
  });
});

describe('the cart of a registered user', () => {
  it('is stored under their id, and what they had added before registering comes along', async () => {
    const browser = app.browser();
    await addToCart(browser, 'tote-bag', 1);
    await register(browser, 'cart-owner@example.com');
    const id = await accountIdOf(app, 'cart-owner@example.com');
    await addToCart(browser, 'plant-pot', 2);
    expect(await storedCart(app, id)).toEqual({ 'tote-bag': 1, 'plant-pot': 2 });
    expect((await sessionOf(app, browser))?.cart).toBeUndefined();
  });

  it('is nobody else\'s: another visitor\'s update of the same product changes only their own cart', async () => {
    const owner = app.browser();
    await register(owner, 'cart-keeper@example.com');
    await addToCart(owner, 'desk-lamp', 1);
    const other = app.browser();
    await addToCart(other, 'desk-lamp', 1);
    await update(other, 'desk-lamp', '7');
    await remove(other, 'desk-lamp');
    expect(await storedCart(app, await accountIdOf(app, 'cart-keeper@example.com'))).toEqual({ 'desk-lamp': 1 });
    expect(await countRowsWhere(app, 'cart_items', "product_id = 'desk-lamp'")).toBe(1);
  });
});
