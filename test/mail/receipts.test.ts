/**
 * Flow 1 over HTTP, with a real SMTP server: a guest checks out with an email, the receipt
 * arrives with the items, the total, the shipping address and a link from APP_URL; the link
 * shows that one order on any device without signing in, and lets an account be made there that
 * keeps the order; a garbled or expired link answers 400 and offers a new receipt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueId } from '../db/postgres/backends.ts';
import { errorFor, flashesOf, placeOrder, SHIPPING, submitOrder, valueOf } from '../shop/shop.ts';
import { csrfTokenIn, guestWithCart, startApp, type Browser, type TestApp } from '../support.ts';
import { PASSWORD, register } from '../visitors.ts';
import { linkIn, startSmtp, TEST_FROM, until, type ReceivedMail, type SmtpHarness } from './smtp.ts';

const APP_URL = 'https://shop.example';

let smtp: SmtpHarness;
let app: TestApp;
beforeAll(async () => {
  smtp = await startSmtp();
  app = await startApp({ ...smtp.env, APP_URL });
});
afterAll(async () => {
  await app?.close();
  await smtp?.close();
});

const newEmail = () => `${uniqueId('buyer')}@example.com`;

/** A guest (seed checkout) buys two mugs and a candle with the receipt to `email`; the order's id and its receipt. */
async function guestOrder(browser: Browser, email = newEmail()): Promise<{ id: string; email: string; receipt: ReceivedMail }> {
  await guestWithCart(browser, [['ember-mug', 2], ['candle', 1]]);
  const id = await placeOrder(browser, { ...SHIPPING, email });
  return { id, email, receipt: await smtp.waitForMail(email, (mail) => mail.text.includes(id)) };
}

/** The order link of a receipt, as a path on the test server (the link itself is on APP_URL). */
const linkPath = (receipt: ReceivedMail) => linkIn(receipt.text, `${APP_URL}/orders/`).slice(APP_URL.length);

/** The readonly email and the password field of "Create your account". */
const createAccountForm = (html: string) => /<form method="post" action="[^"]*#account"[^>]*>[\s\S]*?<\/form>/.exec(html)?.[0] ?? '';

describe('the receipt', () => {
  it('lists the items, the total and the shipping address, and links to the order on APP_URL', async () => {
    const { id, email, receipt } = await guestOrder(app.browser());
    expect(receipt.to).toEqual([email]);
    expect(receipt.parsed.from?.text).toBe(TEST_FROM.replace('guestkit shop', '"guestkit shop"'));
    expect(receipt.subject).toBe(`Your guestkit shop order ${id}`);
    expect(receipt.text).toContain('2 × Ember Mug: $36.00\n1 × Cedar Candle: $24.00\nTotal: $60.00\n');
    expect(receipt.text).toContain(`Shipping to:\n${SHIPPING.name}\n${SHIPPING.address}\n${SHIPPING.postcode} ${SHIPPING.city}\n`);
    // From APP_URL, though every request of this test went to 127.0.0.1.
    expect(linkIn(receipt.text, `${APP_URL}/orders/`)).toMatch(new RegExp(`^${APP_URL}/orders/${id}\\?key=[A-Za-z0-9_-]{43}$`));
    expect(receipt.html).toContain('<td style="padding:4px 0">2 × Ember Mug</td><td style="padding:4px 0;text-align:right">$36.00</td>');
    expect(receipt.html).toContain(`${SHIPPING.name}<br>${SHIPPING.address}<br>${SHIPPING.postcode} ${SHIPPING.city}`);
    expect(receipt.html).toContain(`href="${linkIn(receipt.text, `${APP_URL}/orders/`)}"`);
    expect(receipt.text).toContain('From that page you can create your account with this address');
  });

  it('keeps the link\'s token out of the database: the order holds only its SHA-256, the sent mail no body', async () => {
    const { id, receipt } = await guestOrder(app.browser());
    const token = new URL(linkIn(receipt.text, APP_URL)).searchParams.get('key')!;
    const [order] = await app.sql<{ link_hash: string }>('SELECT link_hash FROM orders WHERE id = ?', id);
    expect(order!.link_hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(order!.link_hash).not.toBe(token);
    await until(async () => (await app.sql<{ status: string }>('SELECT status FROM outbox WHERE subject LIKE ?', `%${id}`))[0]?.status === 'sent');
    expect(await app.sql('SELECT text, html FROM outbox WHERE subject LIKE ?', `%${id}`)).toEqual([{ text: '', html: '' }]);
  });

  it('goes to a registered buyer\'s own address unless they give another', async () => {
    const browser = app.browser();
    const email = newEmail();
    await register(browser, email);
    await browser.submit('/products/candle', { productId: 'candle', quantity: '1' });
    const checkout = await browser.get('/checkout');
    expect(valueOf(checkout.text, 'email')).toBe(email);
    const id = await placeOrder(browser, { ...SHIPPING, email });
    const receipt = await smtp.waitForMail(email, (mail) => mail.text.includes(id));
    expect(receipt.subject).toContain(id);
    // A member has an account already: the receipt offers none.
    expect(receipt.text).not.toContain('create your account');
    expect(receipt.html).not.toContain('create your account');
  });

  it('is not sent, and no order placed, when the email is missing or not an address: 422 next to the field', async () => {
    const browser = app.browser();
    await guestWithCart(browser);
    const outbox = async () => Number((await app.sql<{ n: number }>('SELECT count(*) AS n FROM outbox'))[0]!.n);
    const before = await outbox();
    for (const email of ['', 'not-an-address', 'guest-1@guest.invalid']) {
      const response = await submitOrder(browser, { ...SHIPPING, email });
      expect(response.status).toBe(422);
      expect(errorFor(response.text, 'email')).toBe('Enter a valid email address, like name@example.com.');
      expect(valueOf(response.text, 'name')).toBe(SHIPPING.name);
    }
    expect(await app.sql('SELECT id FROM orders WHERE receipt_email IS NULL')).toEqual([]);
    expect(await outbox()).toBe(before);
  });

  it('goes out once for a double click on "Place order": the second click places nothing and mails nothing', async () => {
    const browser = app.browser();
    const email = newEmail();
    await guestWithCart(browser);
    const page = await browser.get('/checkout');
    const token = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
    const form = { _csrf: token, action: 'place-order', email, ...SHIPPING };
    const statuses = (await Promise.all([browser.post('/checkout', form), browser.post('/checkout', form)])).map((r) => r.status);
    expect(statuses.sort()).toEqual([303, 409]);
    await smtp.waitForMail(email);
    const queued = await app.sql<{ status: string }>('SELECT status FROM outbox WHERE recipient = ?', email);
    expect(queued).toHaveLength(1);
  });
});

describe('MAIL_RATE_LIMIT', () => {
  let limited: TestApp;
  beforeAll(async () => { limited = await startApp({ ...smtp.env, APP_URL, MAIL_RATE_LIMIT: '2', TRUST_PROXY: 'loopback' }); });
  afterAll(() => limited?.close());

  /** A guest with a cart places an order from `client` (X-Forwarded-For), the receipt to `email`. */
  async function orderFrom(client: string, email: string) {
    const browser = limited.browser();
    await guestWithCart(browser);
    const token = csrfTokenIn((await browser.get('/checkout')).text)!;
    return browser.post('/checkout', { _csrf: token, action: 'place-order', email, ...SHIPPING }).set('X-Forwarded-For', client);
  }
  const orders = async () => Number((await limited.sql<{ n: number }>('SELECT count(*) AS n FROM orders'))[0]!.n);

  it('refuses a third receipt a minute from one client address: 429 with Retry-After, and no order', async () => {
    const statuses = [];
    for (let i = 0; i < 2; i++) statuses.push((await orderFrom('203.0.113.1', newEmail())).status);
    const before = await orders();
    const refused = await orderFrom('203.0.113.1', newEmail());
    expect([...statuses, refused.status]).toEqual([303, 303, 429]);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.text).toContain('Too many requests from your network. Please wait a minute and try again.');
    expect(await orders()).toBe(before);
    // Another client is not held up by it.
    expect((await orderFrom('203.0.113.2', newEmail())).status).toBe(303);
  });

  it('refuses a third receipt a minute to one recipient, from however many addresses', async () => {
    const email = newEmail();
    const statuses = [];
    for (const client of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) statuses.push((await orderFrom(client, email)).status);
    expect(statuses).toEqual([303, 303, 429]);
    expect(await limited.sql('SELECT id FROM outbox WHERE recipient = ?', email)).toHaveLength(2);
  });
});

describe('GET /orders/:id?key=… (the receipt link)', () => {
  it('shows the order in a fresh browser that never signed in, with "create your account" for the receipt\'s address', async () => {
    const { id, email, receipt } = await guestOrder(app.browser());
    const stranger = app.browser();
    const page = await stranger.get(linkPath(receipt));
    expect(page.status).toBe(200);
    expect(page.text).toContain(`<strong class="mono">${id}</strong>`);
    expect(page.text).toContain('<li><span>2 × Ember Mug</span> <span>$36.00</span></li>');
    expect(page.text).toContain('Total <strong>$60.00</strong>');
    expect(page.text).toContain(`<address>${SHIPPING.name}<br>${SHIPPING.address}<br>${SHIPPING.postcode} ${SHIPPING.city}</address>`);
    const form = createAccountForm(page.text);
    expect(form).toContain(`<input id="account-email" name="email" type="email" autocomplete="username" value="${email}" readonly>`);
    expect(form).toContain('name="password" type="password"');
    // Reading the order signed nobody in.
    expect((await stranger.get('/account')).status).toBe(302);
  });

  it('shows the guest who placed it, on their own device, the conversion form with the receipt\'s address filled in', async () => {
    const buyer = app.browser();
    const { email, receipt } = await guestOrder(buyer);
    const page = await buyer.get(linkPath(receipt));
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1>Order confirmed</h1>');
    expect(valueOf(page.text, 'convert-email')).toBe(email);
    expect(createAccountForm(page.text)).toBe('');
  });

  it('makes an account on another device with only a password: signed in, with the order, which its guest no longer holds', async () => {
    const buyer = app.browser();
    const { id, email, receipt } = await guestOrder(buyer);
    const phone = app.browser();
    const created = await phone.submit(linkPath(receipt), { action: 'create-account', password: PASSWORD });
    expect(created.status).toBe(303);
    expect(created.headers.location).toBe(`/orders/${id}`);
    const order = await phone.get(`/orders/${id}`);
    expect(order.status).toBe(200);
    expect(flashesOf(order.text)).toEqual(['Your account is ready, and this order is in it.']);
    const account = await phone.get('/account');
    expect(account.text).toContain(`Signed in as <strong>${email}</strong>`);
    expect(account.text).toContain(`href="/orders/${id}"`);
    // The order went with the account made for its receipt's address: the guest's device sees it only through the link.
    expect((await buyer.get(`/orders/${id}`)).status).toBe(404);
    expect((await buyer.get(linkPath(receipt))).status).toBe(200);
    // A real account: it signs in anywhere with that password.
    const laptop = app.browser();
    expect((await laptop.submit('/login', { email, password: PASSWORD })).status).toBe(303);
  });

  it('uses the receipt\'s address, whatever email the form is sent with', async () => {
    const { id, email, receipt } = await guestOrder(app.browser());
    const other = newEmail();
    const phone = app.browser();
    await phone.submit(linkPath(receipt), { action: 'create-account', email: other, password: PASSWORD });
    expect((await phone.get('/account')).text).toContain(`Signed in as <strong>${email}</strong>`);
    expect(await app.sql('SELECT id FROM users WHERE email = ?', other)).toEqual([]);
    expect((await phone.get(`/orders/${id}`)).status).toBe(200);
  });

  it('answers 422 for a short password with the error next to it, and keeps the order where it was', async () => {
    const buyer = app.browser();
    const { id, receipt } = await guestOrder(buyer);
    const phone = app.browser();
    const refused = await phone.submit(linkPath(receipt), { action: 'create-account', password: 'short' });
    expect(refused.status).toBe(422);
    expect(errorFor(refused.text, 'account-password')).toBe('Use at least 8 characters for your password.');
    expect((await buyer.get(`/orders/${id}`)).status).toBe(200);
  });

  it('lets a member with the receipt\'s address sign in from the link and add the order to their account', async () => {
    const email = newEmail();
    const member = app.browser();
    await register(member, email);
    await member.submit('/logout', {}, '/');
    const { id, receipt } = await guestOrder(app.browser(), email);
    const phone = app.browser();
    const taken = await phone.submit(linkPath(receipt), { action: 'create-account', password: PASSWORD });
    expect(taken.status).toBe(409);
    expect(taken.text).toContain(`<a href="/login?next=${encodeURIComponent(linkPath(receipt))}">Sign in to that account</a>`);
    await phone.submit(`/login?next=${encodeURIComponent(linkPath(receipt))}`, { email, password: PASSWORD, next: linkPath(receipt) });
    const page = await phone.get(linkPath(receipt));
    expect(page.text).toContain('Add this order to my account');
    const added = await phone.submit(linkPath(receipt), { action: 'add-order' });
    expect(added.headers.location).toBe(`/orders/${id}`);
    expect((await phone.get('/account')).text).toContain(`href="/orders/${id}"`);
  });

  it('offers a member signed in with another address nothing to add, and moves nothing when asked', async () => {
    const buyer = app.browser();
    const { id, email, receipt } = await guestOrder(buyer);
    const someone = app.browser();
    await register(someone, newEmail());
    const page = await someone.get(linkPath(receipt));
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('Add this order to my account');
    expect(page.text).toContain(`This order's receipt went to <strong>${email}</strong>`);
    await someone.submit(linkPath(receipt), { action: 'add-order' });
    expect((await buyer.get(`/orders/${id}`)).status).toBe(200);
  });

  it('answers 400 to a link that is garbled, cut short, another order\'s, or expired, offering a new receipt and changing nothing', async () => {
    const buyer = app.browser();
    const { id, receipt } = await guestOrder(buyer);
    const other = await guestOrder(app.browser());
    const key = new URL(linkIn(receipt.text, APP_URL)).searchParams.get('key')!;
    const otherKey = new URL(linkIn(other.receipt.text, APP_URL)).searchParams.get('key')!;
    const flipped = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    const bad = [`/orders/${id}?key=${flipped}`, `/orders/${id}?key=${key.slice(0, 20)}`, `/orders/${id}?key=${otherKey}`,
      `/orders/${id}?key=`, `/orders/no-such-order?key=${key}`, `/orders/${id}?key=${key}&key=${key}`];
    const stranger = app.browser();
    for (const path of bad) {
      const page = await stranger.get(path);
      expect(page.status, path).toBe(400);
      expect(page.text).toContain('<h1>This order link does not work</h1>');
      expect(page.text).toContain('Send me a new link');
      expect(page.text).not.toContain(SHIPPING.address);
    }
    const tried = await stranger.submit(`/orders/${id}?key=${flipped}`, { action: 'create-account', password: PASSWORD });
    expect(tried.status).toBe(400);
    await app.sql('UPDATE orders SET link_expires_at = ? WHERE id = ?', Date.now() - 1, id);
    expect((await stranger.get(linkPath(receipt))).status).toBe(400);
    expect((await buyer.get(`/orders/${id}`)).status).toBe(200);
    expect(await app.sql('SELECT id FROM users WHERE email = ?', receipt.to[0])).toEqual([]);
  });

  it('mails a new receipt with a new link to the address it went to, and the same answer and no mail for any other', async () => {
    const { id, email, receipt } = await guestOrder(app.browser());
    await app.sql('UPDATE orders SET link_expires_at = ? WHERE id = ?', Date.now() - 1, id);
    const visitor = app.browser();
    const wrong = await visitor.submit(linkPath(receipt), { action: 'resend-receipt', email: newEmail() });
    const right = await visitor.submit(linkPath(receipt), { action: 'resend-receipt', email: email.toUpperCase() });
    for (const answer of [wrong, right]) {
      expect(answer.status).toBe(303);
      expect(answer.headers.location).toBe(linkPath(receipt));
    }
    expect(flashesOf((await visitor.get(linkPath(receipt))).text))
      .toEqual(['If that is the address the receipt went to, a new one with a fresh link is on its way.']);
    const again = await smtp.waitForMail(email, (mail) => mail.messageId !== receipt.messageId && mail.text.includes(id));
    expect(linkPath(again)).not.toBe(linkPath(receipt));
    expect((await app.browser().get(linkPath(again))).status).toBe(200);
    expect(await app.sql('SELECT recipient FROM outbox WHERE subject LIKE ?', `%${id}`)).toEqual([{ recipient: email }, { recipient: email }]);
  });

  it('answers 422 to a resend with no address, and 429 once an order has been asked for too often', async () => {
    const { id, email, receipt } = await guestOrder(app.browser());
    const visitor = app.browser();
    const path = `/orders/${id}?key=garbled`;
    const empty = await visitor.submit(path, { action: 'resend-receipt', email: '' });
    expect(empty.status).toBe(422);
    expect(errorFor(empty.text, 'resend-email')).toBe('Enter a valid email address, like name@example.com.');
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await visitor.submit(path, { action: 'resend-receipt', email })).status);
    expect(statuses).toEqual([303, 303, 303, 429]);
    void receipt;
  });
});
