import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, register, sessionCookieOf, sessionSignsIn } from '../visitors.ts';
import { firstRow, scalar, sessionsSignedInTo } from '../rows.ts';
import { guestWithCart, startApp, type Browser, type TestApp } from '../support.ts';
import {
  accountIdOf, addToCart, countRowsWhere, errorFor, flashesOf, guestIdOf, placeOrder, SHIPPING, storedCart,
} from './shop.ts';

let app: TestApp;
beforeAll(async () => { app = await startApp(); });
afterAll(async () => { await app.close(); });

const NEW_PASSWORD = 'a much better passphrase';

function changePassword(browser: Browser, currentPassword: string, newPassword: string) {
  return browser.submit('/account', { action: 'change-password', currentPassword, newPassword });
}
function deleteAccount(browser: Browser, password: string) {
  return browser.submit('/account', { action: 'delete-account', password });
}
function signIn(browser: Browser, email: string, password: string) {
  return browser.submit('/login', { email, password });
}

/** A registered user with an order, a cart line and a note; returns their id. */
async function shopper(browser: Browser, email: string): Promise<string> {
  await register(browser, email);
  await addToCart(browser, 'wool-throw', 1);
  await placeOrder(browser);
  await addToCart(browser, 'candle', 2);
  await browser.submit('/try', { action: 'add-note', body: 'Buy more candles' });
  return accountIdOf(app, email);
}

describe('GET /account', () => {
  it('sends a signed-out visitor to sign in, with the way back', async () => {
    const response = await app.browser().get('/account');
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe('/login?next=%2Faccount');
  });

  it('shows a guest their orders and the "Save your account" form, and no password or delete forms', async () => {
    const browser = app.browser();
    await guestWithCart(browser);
    const id = await placeOrder(browser);
    const response = await browser.get('/account');
    expect(response.status).toBe(200);
    expect(response.text).toContain('You are a <strong>guest</strong>.');
    expect(response.text).toContain(`href="/orders/${id}"`);
    expect(response.text).toContain('<section class="convert card" id="save"');
    expect(response.text).not.toContain('value="change-password"');
    expect(response.text).not.toContain('value="delete-account"');
  });

  it('shows a registered user their email, orders, and the change-password and delete-account forms', async () => {
    const browser = app.browser();
    await register(browser, 'reader@example.com');
    await addToCart(browser, 'notebook', 1);
    const id = await placeOrder(browser);
    const response = await browser.get('/account');
    expect(response.text).toContain('Signed in as <strong>reader@example.com</strong>.');
    expect(response.text).toContain(`href="/orders/${id}"`);
    expect(response.text).toContain('<input type="hidden" name="action" value="change-password">');
    expect(response.text).toMatch(/<input type="hidden" name="action" value="delete-account">[\s\S]*<input id="delete-password" name="password" type="password"/);
    expect(response.text).not.toContain('id="save"');
  });
});

describe('POST /account action=convert-guest', () => {
  it('answers 409 for an email in use, with the error by the email, and a sign-in link that brings the cart along', async () => {
    await register(app.browser(), 'already@example.com');
    const browser = app.browser();
    await guestWithCart(browser);
    const response = await browser.submit('/account', { action: 'convert-guest', email: 'already@example.com', password: PASSWORD });
    expect(response.status).toBe(409);
    expect(errorFor(response.text, 'convert-email')).toBe('An account with this email already exists. Sign in instead.');
    expect(response.text).toContain('<a href="/login?next=%2Faccount">Sign in to that account</a>');
    const signedIn = await browser.submit('/login?next=%2Faccount', { email: 'already@example.com', password: PASSWORD, next: '/account' });
    expect(signedIn.headers.location).toBe('/account');
    expect(await storedCart(app, await accountIdOf(app, 'already@example.com'))).toEqual({ 'ember-mug': 2 });
  });
});

describe('POST /account action=change-password', () => {
  it('answers 401 with the error next to the current password when it is wrong, and keeps the old password', async () => {
    const browser = app.browser();
    await register(browser, 'forgetful@example.com');
    const response = await changePassword(browser, 'not my password', NEW_PASSWORD);
    expect(response.status).toBe(401);
    expect(errorFor(response.text, 'currentPassword')).toBe('Your current password is not correct.');
    expect((await signIn(app.browser(), 'forgetful@example.com', PASSWORD)).status).toBe(303);
  });

  it('answers 422 with the error next to the new password when it is too short', async () => {
    const browser = app.browser();
    await register(browser, 'brief@example.com');
    const response = await changePassword(browser, PASSWORD, 'short');
    expect(response.status).toBe(422);
    expect(errorFor(response.text, 'newPassword')).toMatch(/at least 8 characters/);
  });

  it('changes it: a flash confirms, the new password signs in, the old no longer does, other devices are signed out', async () => {
    const browser = app.browser();
    await register(browser, 'careful@example.com');
    const laptop = app.browser();
    await signIn(laptop, 'careful@example.com', PASSWORD);
    const laptopSession = sessionCookieOf(laptop);
    const response = await changePassword(browser, PASSWORD, NEW_PASSWORD);
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/account');
    expect(flashesOf((await browser.get('/account')).text)).toEqual(['Your password is changed.']);
    expect(await sessionSignsIn(app, laptopSession)).toBe(false);
    expect((await signIn(app.browser(), 'careful@example.com', PASSWORD)).status).toBe(401);
    expect((await signIn(app.browser(), 'careful@example.com', NEW_PASSWORD)).status).toBe(303);
  });

  it('answers 403 without the CSRF token and changes nothing', async () => {
    const browser = app.browser();
    await register(browser, 'csrf-password@example.com');
    const response = await browser.post('/account', { action: 'change-password', currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    expect(response.status).toBe(403);
    expect((await signIn(app.browser(), 'csrf-password@example.com', PASSWORD)).status).toBe(303);
  });
});

describe('POST /account action=delete-account', () => {
  it('answers 401 with the error next to the password when it is wrong, and deletes nothing', async () => {
    const browser = app.browser();
    const id = await shopper(browser, 'hesitant@example.com');
    const response = await deleteAccount(browser, 'wrong password');
    expect(response.status).toBe(401);
    expect(errorFor(response.text, 'delete-password')).toBe('That password is not correct.');
    expect(await countRowsWhere(app, 'accounts', 'id = ?', id)).toBe(1);
    expect(await storedCart(app, id)).toEqual({ candle: 2 });
    expect((await browser.get('/account')).status).toBe(200);
  });

  it('deletes the account, its cart, notes and every session, and keeps its orders without name or address', async () => {
    const browser = app.browser();
    const id = await shopper(browser, 'leaving@example.com');
    const phone = app.browser();
    await signIn(phone, 'leaving@example.com', PASSWORD);
    const phoneSession = sessionCookieOf(phone);
    const orderId = (await scalar<string>(app, 'SELECT id FROM orders WHERE account_id = ?', id))!;

    const response = await deleteAccount(browser, PASSWORD);
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/');

    expect(await countRowsWhere(app, 'users', 'id = ?', id)).toBe(0);
    expect(await countRowsWhere(app, 'accounts', 'id = ?', id)).toBe(0);
    expect(await countRowsWhere(app, 'cart_items', 'account_id = ?', id)).toBe(0);
    expect(await countRowsWhere(app, 'notes', 'account_id = ?', id)).toBe(0);
    expect(await sessionsSignedInTo(app, id)).toEqual([]);
    expect(await sessionSignsIn(app, phoneSession)).toBe(false);
    expect(await firstRow(app, 'SELECT account_id, name, address, total_cents FROM orders WHERE id = ?', orderId))
      .toEqual({ account_id: null, name: 'Deleted customer', address: '', total_cents: 8900 });
    expect(JSON.stringify(await firstRow(app, 'SELECT * FROM orders WHERE id = ?', orderId))).not.toContain(SHIPPING.name);
    expect(await countRowsWhere(app, 'order_lines', 'order_id = ?', orderId)).toBe(1);

    const home = await browser.get('/');
    expect(flashesOf(home.text)).toEqual(['Your account is deleted.']);
    expect(home.text).toContain('<a href="/login">Sign in</a>');
    expect((await signIn(app.browser(), 'leaving@example.com', PASSWORD)).status).toBe(401);
  });

  it('lets the email be registered again afresh, without the old orders', async () => {
    const browser = app.browser();
    await shopper(browser, 'comeback@example.com');
    await deleteAccount(browser, PASSWORD);
    const again = app.browser();
    await register(again, 'comeback@example.com');
    const account = await again.get('/account');
    expect(account.text).toContain('No orders yet.');
  });

  it('is not offered to a guest: a guest\'s delete-account POST deletes nothing', async () => {
    const browser = app.browser();
    await guestWithCart(browser);
    const id = guestIdOf(browser);
    const response = await deleteAccount(browser, '');
    expect(response.status).toBe(200);
    expect(await countRowsWhere(app, 'accounts', 'id = ?', id)).toBe(1);
    expect(await storedCart(app, id)).toEqual({ 'ember-mug': 2 });
  });

  it('answers 403 without the CSRF token and deletes nothing', async () => {
    const browser = app.browser();
    await register(browser, 'csrf-delete@example.com');
    const response = await browser.post('/account', { action: 'delete-account', password: PASSWORD });
    expect(response.status).toBe(403);
    expect(await countRowsWhere(app, 'users', 'email = ?', 'csrf-delete@example.com')).toBe(1);
  });

  it('cannot be triggered by a signed-out visitor', async () => {
    const browser = app.browser();
    await register(browser, 'target@example.com');
    const stranger = app.browser();
    const response = await stranger.submit('/account', { action: 'delete-account', password: PASSWORD }, '/login');
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/login?next=%2Faccount');
    expect(await countRowsWhere(app, 'users', 'email = ?', 'target@example.com')).toBe(1);
  });
});
