/**
 * Found by an adversarial pass over HTTP (issue 12): order pages that answered 404, `//` paths
 * that sent visitors off-site, a stale conversion form that silently did nothing, and forms that
 * reported one error per submission.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw, startApp, type TestApp } from '../support.ts';
import { becomeGuest, PASSWORD, register, RESUME_COOKIE, SESSION_COOKIE } from '../visitors.ts';
import { addToCart, errorFor, guestIdOf, placeOrder, submitOrder } from '../shop/shop.ts';
import { startFixtureSite, textOf } from '../pages/fixture-site.ts';

let app: TestApp;
beforeAll(async () => { app = await startApp(); });
afterAll(async () => { await app.close(); });

/** Gives an order the id under test (ids are random base64url: any of them may start with `_` or `-`). */
async function renameOrder(from: string, to: string): Promise<void> {
  if (from === to) return; // the random id started with that character already
  // A copy under the new id, its lines moved onto it, then the old row gone: order_lines always
  // points at an order, so no foreign key needs deferring on either backend.
  await app.sql(`INSERT INTO orders (id, account_id, total_cents, name, address, city, postcode, created_at)
    SELECT ?, account_id, total_cents, name, address, city, postcode, created_at FROM orders WHERE id = ?`, to, from);
  await app.sql('UPDATE order_lines SET order_id = ? WHERE order_id = ?', to, from);
  await app.sql('DELETE FROM orders WHERE id = ?', from);
}

let emails = 0;
const uniqueEmail = (name: string) => `${name}-${++emails}@example.com`;

describe('an order whose random id starts with _ or -', () => {
  for (const prefix of ['_', '-']) {
    it(`shows its confirmation page to its owner (id "${prefix}…"), as /account lists it`, async () => {
      const browser = app.browser();
      await addToCart(browser, 'ember-mug');
      await browser.submit('/checkout', { action: 'guest-checkout' });
      const placed = await placeOrder(browser);
      const id = `${prefix}${placed.slice(1)}`;
      await renameOrder(placed, id);
      expect((await browser.get('/account')).text).toContain(`href="/orders/${id}"`);
      const page = await browser.get(`/orders/${id}`);
      expect(page.status).toBe(200);
      expect(page.text).toContain('Order confirmed');
      expect(page.text).toContain(id);
    });
  }

  it('still answers 404 to another visitor', async () => {
    const owner = app.browser();
    await addToCart(owner, 'ember-mug');
    await owner.submit('/checkout', { action: 'guest-checkout' });
    const placed = await placeOrder(owner);
    const id = `_${placed.slice(1)}`;
    await renameOrder(placed, id);
    const stranger = app.browser();
    await becomeGuest(stranger);
    expect((await stranger.get(`/orders/${id}`)).status).toBe(404);
  });
});

describe('a captured path segment that starts with _ (fixture site)', () => {
  let site: TestApp;
  beforeAll(async () => { site = await startFixtureSite(); });
  afterAll(async () => { await site.close(); });

  it('fills the parameter: /users/_ada renders [name].eta with params.name "_ada"', async () => {
    const response = await site.browser().get('/users/_ada');
    expect(response.status).toBe(200);
    expect(textOf(response.text, 'param')).toBe('_ada');
  });

  it('never reaches a _-file through a parameter folder: /teams/red/_private is 404', async () => {
    expect((await site.browser().get('/teams/red/_private')).status).toBe(404);
  });
});

describe('paths with an empty segment never lead off-site', () => {
  it('answers 404 to GET //try instead of 302 Location: //try (read by browsers as http://try/)', async () => {
    const response = await raw(app, { path: '//try' });
    expect(response.status).toBe(404);
    expect(response.headers.location).toBeUndefined();
  });

  it('answers 404 to a guest\'s GET //account, so no form posts its email and password to //account', async () => {
    const browser = app.browser();
    await becomeGuest(browser);
    const cookie = [SESSION_COOKIE, RESUME_COOKIE].map((name) => `${name}=${browser.cookie(name)}`).join('; ');
    const response = await raw(app, { path: '//account', headers: { cookie } });
    expect(response.status).toBe(404);
    expect(response.body).not.toContain('action="//');
  });

  for (const path of ['/account//x', '/products//ember-mug', '///try']) {
    it(`answers 404 to ${path}`, async () => {
      expect((await raw(app, { path })).status).toBe(404);
    });
  }
});

describe('redirect() with a target a browser would read as another host (fixture site)', () => {
  let site: TestApp;
  beforeAll(async () => { site = await startFixtureSite(); });
  afterAll(async () => { await site.close(); });

  const targets: Array<[string, string]> = [
    ['//evil.example/x', '/evil.example/x'],
    ['/\\evil.example', '/evil.example'],
    ['/\t/evil.example', '/evil.example'],
    [' //evil.example', '/evil.example'],
    ['/about?next=//kept', '/about?next=//kept'],
  ];
  for (const [target, location] of targets) {
    it(`answers Location: ${location} for redirect(${JSON.stringify(target)})`, async () => {
      const response = await site.browser().get(`/redirect?to=${encodeURIComponent(target)}`);
      expect(response.status).toBe(302);
      expect(response.headers.location).toBe(location);
    });
  }
});

describe('a member posting a stale conversion form (converted in another tab)', () => {
  it('answers 400 on the account page with a readable message, and changes nothing', async () => {
    const browser = app.browser();
    await becomeGuest(browser);
    // Two tabs show the conversion form; the first saves the account.
    const staleForm = await browser.get('/account');
    const token = /name="_csrf" value="([^"]+)"/.exec(staleForm.text)![1]!;
    const email = uniqueEmail('tabs');
    expect((await browser.submit('/account', { action: 'convert-guest', email, password: PASSWORD })).status).toBe(303);
    const second = await browser.post('/account', { _csrf: token, action: 'convert-guest', email: uniqueEmail('other'), password: PASSWORD });
    expect(second.status).toBe(400);
    expect(second.text).toContain('This account is already registered.');
    expect(second.text).toContain(`Signed in as <strong>${email}</strong>`);
  });
});

describe('every field\'s error at once', () => {
  it('conversion: a bad email and a short password are both reported, with the email kept', async () => {
    const browser = app.browser();
    await becomeGuest(browser);
    const page = await browser.submit('/account', { action: 'convert-guest', email: 'not-an-email', password: 'short' });
    expect(page.status).toBe(422);
    expect(errorFor(page.text, 'convert-email')).toBe('Enter a valid email address, like name@example.com.');
    expect(errorFor(page.text, 'convert-password')).toBe('Use at least 8 characters for your password.');
    expect(page.text).toContain('value="not-an-email"');
  });

  it('registration: a bad email and a too-long password are both reported', async () => {
    const page = await app.browser().submit('/register', { email: 'nobody@', password: 'é'.repeat(40) });
    expect(page.status).toBe(422);
    expect(errorFor(page.text, 'email')).toBe('Enter a valid email address, like name@example.com.');
    expect(errorFor(page.text, 'password')).toBe('Use at most 72 bytes for your password (fewer if it has accents or emoji).');
  });

  it('checkout: every empty shipping field is marked, and what was typed is kept', async () => {
    const browser = app.browser();
    await addToCart(browser, 'ember-mug');
    await browser.submit('/checkout', { action: 'guest-checkout' });
    const page = await submitOrder(browser, { name: 'Ada Lovelace', address: '', city: ' ', postcode: '' });
    expect(page.status).toBe(422);
    for (const field of ['address', 'city', 'postcode']) {
      expect(errorFor(page.text, field), field).toBe('Please fill in this field (at most 200 characters).');
    }
    expect(errorFor(page.text, 'name')).toBeUndefined();
    expect(page.text).toContain('value="Ada Lovelace"');
    expect(guestIdOf(browser)).toBeTruthy();
  });

  it('password change: a wrong current password and a too-short new one are both reported', async () => {
    const browser = app.browser();
    await register(browser, uniqueEmail('change'));
    const page = await browser.submit('/account', { action: 'change-password', currentPassword: 'wrong password', newPassword: 'short' });
    expect(page.status).toBe(401);
    expect(errorFor(page.text, 'currentPassword')).toBe('Your current password is not correct.');
    expect(errorFor(page.text, 'newPassword')).toBe('Use at least 8 characters for your password.');
  });
});
