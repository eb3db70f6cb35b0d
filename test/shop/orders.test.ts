import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { becomeGuest, PASSWORD, register } from '../visitors.ts';
import { firstRow } from '../rows.ts';
import { guestWithCart, startApp, type Browser, type TestApp } from '../support.ts';
import { accountIdOf, addToCart, errorFor, guestIdOf, placeOrder, SHIPPING, valueOf } from './shop.ts';

let app: TestApp;
beforeAll(async () => { app = await startApp(); });
afterAll(async () => { await app.close(); });

/** A guest (seed checkout) who bought two mugs; returns the order's id. */
async function guestOrder(browser: Browser): Promise<string> {
  await guestWithCart(browser, [['ember-mug', 2]]);
  return placeOrder(browser);
}

function convert(browser: Browser, page: string, email: string, password: string) {
  return browser.submit(page, { action: 'convert-guest', email, password });
}

describe('GET /orders/:id', () => {
  it('shows its owner the confirmation: lines, total and where it ships', async () => {
    const browser = app.browser();
    const id = await guestOrder(browser);
    const response = await browser.get(`/orders/${id}`);
    expect(response.status).toBe(200);
    expect(response.text).toContain('<h1>Order confirmed</h1>');
    expect(response.text).toContain(`<strong class="mono">${id}</strong>`);
    expect(response.text).toContain('<li><span>2 × Ember Mug</span> <span>$36.00</span></li>');
    expect(response.text).toContain('Total <strong>$36.00</strong>');
    expect(response.text).toContain(`<address>${SHIPPING.name}<br>${SHIPPING.address}<br>${SHIPPING.postcode} ${SHIPPING.city}</address>`);
  });

  it('answers 404 to another guest, exactly as for an order that does not exist', async () => {
    const id = await guestOrder(app.browser());
    const other = app.browser();
    await becomeGuest(other);
    const theirs = await other.get(`/orders/${id}`);
    const missing = await other.get('/orders/no-such-order');
    expect(theirs.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(theirs.text).not.toContain(id);
    expect(theirs.text).not.toContain(SHIPPING.address);
    expect(theirs.text.replace(/value="[^"]+"/g, '')).toBe(missing.text.replace(/value="[^"]+"/g, ''));
  });

  it('answers 404 to another registered user', async () => {
    const id = await guestOrder(app.browser());
    const other = app.browser();
    await register(other, 'nosy@example.com');
    const response = await other.get(`/orders/${id}`);
    expect(response.status).toBe(404);
    expect(response.text).not.toContain(SHIPPING.address);
  });

  it('sends a signed-out visitor to sign in, coming back to the order afterwards', async () => {
    const owner = app.browser();
    await register(owner, 'returning-buyer@example.com');
    await addToCart(owner, 'candle', 1);
    const id = await placeOrder(owner);
    const visitor = app.browser();
    const response = await visitor.get(`/orders/${id}`);
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe(`/login?next=${encodeURIComponent(`/orders/${id}`)}`);
    expect(response.text).not.toContain(SHIPPING.address);
    const signedIn = await visitor.submit(`/login?next=${encodeURIComponent(`/orders/${id}`)}`, { email: 'returning-buyer@example.com', password: PASSWORD, next: `/orders/${id}` });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.location).toBe(`/orders/${id}`);
    expect((await visitor.get(`/orders/${id}`)).status).toBe(200);
  });

  it('offers a guest the "Save your account" form (email, password) and a registered user none', async () => {
    const guest = app.browser();
    const guestOrderId = await guestOrder(guest);
    const guestPage = await guest.get(`/orders/${guestOrderId}`);
    expect(guestPage.text).toContain('<h2 id="save-title">Save your account</h2>');
    expect(guestPage.text).toMatch(/<input id="convert-email" name="email" type="email"/);
    expect(guestPage.text).toMatch(/<input id="convert-password" name="password" type="password"/);
    const user = app.browser();
    await register(user, 'no-form@example.com');
    await addToCart(user, 'candle', 1);
    const userPage = await user.get(`/orders/${await placeOrder(user)}`);
    expect(userPage.text).not.toContain('id="save-title"');
  });
});

describe('saving the account on the order page', () => {
  it('keeps the order in the account: after signing out and in again it is on /account and still viewable', async () => {
    const browser = app.browser();
    const id = await guestOrder(browser);
    const guestId = guestIdOf(browser);
    const converted = await convert(browser, `/orders/${id}`, 'saved-buyer@example.com', PASSWORD);
    expect(converted.status).toBe(303);
    expect(converted.headers.location).toBe(`/orders/${id}`);
    const page = await browser.get(`/orders/${id}`);
    expect(page.text).toContain('Your account is saved. Everything you did as a guest is in it.');
    expect(page.text).not.toContain('id="save-title"');
    expect(await firstRow(app, 'SELECT account_id FROM orders WHERE id = ?', id)).toEqual({ account_id: guestId });

    await browser.submit('/logout', {}, '/');
    expect((await browser.get(`/orders/${id}`)).status).toBe(302);
    await browser.submit('/login', { email: 'saved-buyer@example.com', password: PASSWORD });
    const account = await browser.get('/account');
    expect(account.text).toContain(`href="/orders/${id}"`);
    expect((await browser.get(`/orders/${id}`)).status).toBe(200);
  });

  it('shows a conversion error next to its field, keeps the email and the order', async () => {
    const browser = app.browser();
    const id = await guestOrder(browser);
    const response = await convert(browser, `/orders/${id}`, 'short@example.com', 'short');
    expect(response.status).toBe(422);
    expect(errorFor(response.text, 'convert-password')).toMatch(/at least 8 characters/);
    expect(valueOf(response.text, 'convert-email')).toBe('short@example.com');
    expect(response.text).toContain('<h1>Order confirmed</h1>');
  });

  it('answers 403 without the CSRF token and leaves the guest a guest', async () => {
    const browser = app.browser();
    const id = await guestOrder(browser);
    const response = await browser.post(`/orders/${id}`, { action: 'convert-guest', email: 'csrf@example.com', password: PASSWORD });
    expect(response.status).toBe(403);
    expect(await firstRow(app, 'SELECT is_anonymous FROM customers WHERE id = ?', guestIdOf(browser))).toEqual({ is_anonymous: 1 });
  });

  it('cannot be used on someone else\'s order: 404, and the visitor stays a guest', async () => {
    const id = await guestOrder(app.browser());
    const other = app.browser();
    const otherId = await becomeGuest(other);
    const response = await other.submit(`/orders/${id}`, { action: 'convert-guest', email: 'thief@example.com', password: PASSWORD }, '/try');
    expect(response.status).toBe(404);
    expect(await firstRow(app, 'SELECT is_anonymous FROM users WHERE id = ?', otherId)).toEqual({ is_anonymous: 1 });
    await expect(accountIdOf(app, 'thief@example.com')).rejects.toThrow();
  });
});
