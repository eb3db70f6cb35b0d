import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../support.ts';
import { addToCart, errorFor, flashesOf, sessionOf, valueOf } from './shop.ts';

let app: TestApp;
beforeAll(async () => { app = await startApp(); });
afterAll(async () => { await app.close(); });

describe('GET /', () => {
  it('lists at least 12 products, each with its name, price, image and a link to its page', async () => {
    const response = await app.browser().get('/');
    expect(response.status).toBe(200);
    const cards = [...response.text.matchAll(/<li class="product-card">([\s\S]*?)<\/li>/g)].map((match) => match[1]!);
    expect(cards.length).toBeGreaterThanOrEqual(12);
    const products = await app.sql<{ id: string; name: string; description: string; priceCents: number; image: string }>(
      'SELECT id, name, description, price_cents AS "priceCents", image FROM products ORDER BY position');
    expect(products).toHaveLength(cards.length);
    products.forEach((product, index) => {
      const card = cards[index]!;
      expect(card).toContain(`href="/products/${product.id}"`);
      expect(card).toContain(product.name);
      expect(card).toContain(`$${(product.priceCents / 100).toFixed(2)}`);
      expect(card).toContain(`src="${product.image}"`);
      expect(product.description.length).toBeGreaterThan(10);
      expect(product.image).toMatch(/^\/products\/[\w-]+\.svg$/);
    });
  });

  it('does not sign anyone in: browsing and filling a cart need no account, not even a guest', async () => {
    const browser = app.browser();
    await browser.get('/');
    await browser.get('/products/ember-mug');
    await addToCart(browser, 'ember-mug', 1);
    expect(browser.cookie('gk.resume')).toBeUndefined();
    expect(await sessionOf(app, browser)).toMatchObject({ cart: { 'ember-mug': 1 } });
    expect((await sessionOf(app, browser))?.auth).toBeUndefined();
  });
});

describe('GET /products/:id', () => {
  it('shows the product with its description, price and an Add to cart form (productId, quantity)', async () => {
    const response = await app.browser().get('/products/oak-board');
    expect(response.status).toBe(200);
    expect(response.text).toContain('<h1>Oak Cutting Board</h1>');
    expect(response.text).toContain('End-grain oak board, oiled by hand, with a juice groove.');
    expect(response.text).toContain('$52.00');
    expect(response.text).toMatch(/<input type="hidden" name="productId" value="oak-board">/);
    expect(response.text).toMatch(/<input id="quantity" name="quantity" type="number"/);
    expect(response.text).toMatch(/<button type="submit" class="button">Add to cart<\/button>/);
  });

  it('answers 404 with the not-found page for a product that does not exist', async () => {
    const response = await app.browser().get('/products/unicorn-saddle');
    expect(response.status).toBe(404);
    expect(response.text).toContain('<h1>Page not found</h1>');
  });

  it('answers 404 to an add-to-cart POST on a product page that does not exist', async () => {
    const browser = app.browser();
    const response = await browser.submit('/products/unicorn-saddle', { productId: 'unicorn-saddle', quantity: '1' }, '/products/ember-mug');
    expect(response.status).toBe(404);
    expect((await sessionOf(app, browser))?.cart).toBeUndefined();
  });
});

describe('POST /products/:id (add to cart)', () => {
  it('adds the quantity, flashes a confirmation and redirects to the cart', async () => {
    const browser = app.browser();
    const response = await addToCart(browser, 'tea-tin', 3);
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/cart');
    const cart = await browser.get('/cart');
    expect(flashesOf(cart.text)).toEqual(['Sencha Tea Tin is in your cart.']);
    expect(cart.text).toMatch(/<input id="qty-tea-tin" name="quantity" type="number" min="1" max="99" value="3"/);
  });

  it('adds to the same line when the product is added again', async () => {
    const browser = app.browser();
    await addToCart(browser, 'candle', 2);
    await addToCart(browser, 'candle', 5);
    expect((await sessionOf(app, browser))?.cart).toEqual({ candle: 7 });
  });

  it.each([
    ['0', 422, 'Choose a quantity from 1 to 99.'],
    ['100', 422, 'Choose a quantity from 1 to 99.'],
    ['abc', 422, 'Choose a quantity from 1 to 99.'],
    ['-1', 422, 'Choose a quantity from 1 to 99.'],
    ['2.5', 422, 'Choose a quantity from 1 to 99.'],
    ['', 422, 'Choose a quantity from 1 to 99.'],
  ])('refuses quantity %j with %i, the message next to the field, the value kept and the cart unchanged', async (quantity, status, message) => {
    const browser = app.browser();
    await addToCart(browser, 'ember-mug', 1);
    const response = await addToCart(browser, 'ember-mug', quantity);
    expect(response.status).toBe(status);
    expect(errorFor(response.text, 'quantity')).toBe(message);
    expect(valueOf(response.text, 'quantity')).toBe(quantity);
    expect((await sessionOf(app, browser))?.cart).toEqual({ 'ember-mug': 1 });
  });

  it('refuses an unknown productId with 404 and a message, leaving the cart unchanged', async () => {
    const browser = app.browser();
    await addToCart(browser, 'ember-mug', 1);
    const response = await browser.submit('/products/ember-mug', { productId: 'unicorn-saddle', quantity: '1' });
    expect(response.status).toBe(404);
    expect(response.text).toContain('That product is not in our catalogue.');
    expect((await sessionOf(app, browser))?.cart).toEqual({ 'ember-mug': 1 });
  });

  it('caps a line at 99 however often it is added', async () => {
    const browser = app.browser();
    await addToCart(browser, 'notebook', 60);
    await addToCart(browser, 'notebook', 60);
    expect((await sessionOf(app, browser))?.cart).toEqual({ notebook: 99 });
  });

  it('answers 403 to a POST without the form\'s CSRF token and adds nothing', async () => {
    const browser = app.browser();
    await addToCart(browser, 'ember-mug', 1);
    const response = await browser.post('/products/ember-mug', { productId: 'ember-mug', quantity: '4' });
    expect(response.status).toBe(403);
    expect((await sessionOf(app, browser))?.cart).toEqual({ 'ember-mug': 1 });
  });
});
