/**
 * Cross-site scripting: whatever a visitor types (or puts in a link, or in a header) comes back
 * HTML-escaped on every page that shows it, and never as the start of a link or form target.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countOf } from '../rows.ts';
import { type Browser, guestWithCart, startApp, type TestApp, raw } from '../support.ts';
import { escaped, expectRedirect, guestBrowser, PASSWORD, registeredBrowser } from './attack.ts';

let app: TestApp;
beforeAll(async () => { app = await startApp(); });
afterAll(async () => { await app.close(); });

const SCRIPT = '<script>alert(1)</script>';
const ATTRIBUTE = '"><img src=x onerror=alert(1)>';
const SINGLE_QUOTED = "'><svg onload=alert(1)>";
const JAVASCRIPT_URL = 'javascript:alert(1)';
const MARKUP = [SCRIPT, ATTRIBUTE, SINGLE_QUOTED];

/** No payload arrives raw; those the page echoes arrive escaped. */
function expectEscaped(html: string, payloads: string[], echoed = true): void {
  for (const payload of payloads) {
    expect(html, `raw ${payload}`).not.toContain(payload);
    if (echoed) expect(html, `escaped ${payload}`).toContain(escaped(payload));
  }
  expect(html).not.toMatch(/<(script|img|svg)\b[^>]*(alert|onerror|onload)/i);
  expect(html).not.toMatch(/\b(href|src|action|formaction)\s*=\s*["']?\s*javascript:/i);
}

describe('the sign-in and sign-up forms', () => {
  for (const payload of MARKUP) {
    it(`echo an email of ${payload} escaped when registration refuses it`, async () => {
      const response = await app.browser().submit('/register', { email: payload, password: PASSWORD });
      expect(response.status).toBe(422);
      expectEscaped(response.text, [payload]);
    });

    it(`echo an email of ${payload} escaped when sign-in fails`, async () => {
      const response = await app.browser().submit('/login', { email: payload, password: PASSWORD });
      expect(response.status).toBe(401);
      expectEscaped(response.text, [payload]);
    });

    it(`echo an email of ${payload} escaped when a guest's conversion refuses it`, async () => {
      const guest = await guestBrowser(app);
      const response = await guest.submit('/account', { action: 'convert-guest', email: payload, password: PASSWORD });
      expect(response.status).toBe(422);
      expectEscaped(response.text, [payload]);
    });
  }

  it('never carry a markup or javascript: next into the page', async () => {
    for (const next of [...MARKUP, JAVASCRIPT_URL, `/${SCRIPT}`, `/${ATTRIBUTE}`]) {
      const page = await app.browser().get(`/login?next=${encodeURIComponent(next)}`);
      expectEscaped(page.text, [next], false);
      const posted = await app.browser().submit('/login', { email: 'nobody@example.com', password: PASSWORD, next });
      expectEscaped(posted.text, [next], false);
    }
  });

  it('show a real email with quote and ampersand escaped in the header and account page', async () => {
    const email = `o'neil&co-${process.pid}@example.com`;
    const browser = await registeredBrowser(app, email);
    const page = await browser.get('/account');
    expect(page.text).not.toContain(email);
    expect(page.text).toContain(escaped(email));
  });
});

describe('checkout and the order page', () => {
  let guest: Browser;
  beforeAll(async () => {
    guest = app.browser();
    await guestWithCart(guest);
  });

  it('re-render the shipping fields escaped when one is missing', async () => {
    const response = await guest.submit('/checkout', { action: 'place-order', email: 'ada@example.com', name: SCRIPT, address: ATTRIBUTE, city: SINGLE_QUOTED, postcode: '' });
    expect(response.status).toBe(422);
    expectEscaped(response.text, MARKUP);
  });

  it('show an order placed with markup in every field escaped, on the order and account pages', async () => {
    const response = await guest.submit('/checkout', { action: 'place-order', email: 'ada@example.com', name: SCRIPT, address: ATTRIBUTE, city: SINGLE_QUOTED, postcode: JAVASCRIPT_URL });
    expectRedirect(response, 'placing the order');
    const order = await guest.get(response.headers.location!);
    expect(order.status).toBe(200);
    expectEscaped(order.text, MARKUP);
    expect(order.text).toContain(JAVASCRIPT_URL); // shown as text, and never as a link (checked above)
    expectEscaped((await guest.get('/account')).text, MARKUP, false);
  });
});

describe('notes, quantities and product ids', () => {
  it('show a note with markup escaped in the list, and in the form when it is refused', async () => {
    const guest = await guestBrowser(app);
    for (const payload of MARKUP) expectRedirect(await guest.submit('/try', { action: 'add-note', body: payload }), 'adding a note');
    expectEscaped((await guest.get('/try')).text, MARKUP);
    const tooLong = SCRIPT + 'x'.repeat(2000);
    const refused = await guest.submit('/try', { action: 'add-note', body: tooLong });
    expect(refused.status).toBe(422);
    expectEscaped(refused.text, [tooLong]);
  });

  for (const payload of MARKUP) {
    it(`echo a quantity of ${payload} escaped`, async () => {
      const response = await app.browser().submit('/products/candle', { productId: 'candle', quantity: payload });
      expect(response.status).toBe(422);
      expectEscaped(response.text, [payload]);
    });
  }

  it('never echo a product id raw, on the product page or the cart', async () => {
    const guest = app.browser();
    await guestWithCart(guest);
    for (const payload of [...MARKUP, JAVASCRIPT_URL]) {
      const added = await guest.submit('/products/candle', { productId: payload, quantity: '1' });
      expect(added.status).toBe(404);
      expectEscaped(added.text, [payload], false);
      const updated = await guest.submit('/cart', { action: 'update', productId: payload, quantity: '1' });
      expect(updated.status).toBe(404);
      expectEscaped(updated.text, [payload], false);
    }
  });
});

describe('addresses and headers', () => {
  const pages = ['/', '/products/candle', '/cart', '/checkout', '/try', '/account', '/login', '/register', '/logout', '/no-such-page'];

  it('escape markup in the query string on every page (the conversion form posts back to this address)', async () => {
    const guest = await guestBrowser(app);
    const cookie = `gk.sid=${guest.cookie('gk.sid')}; gk.resume=${guest.cookie('gk.resume')}`;
    for (const page of pages) {
      for (const payload of MARKUP) {
        // Sent unencoded, as a hand-made link could: Node accepts <, > and quotes in a request target.
        const response = await raw(app, { path: `${page}?q=${payload.replaceAll(' ', '%20')}&next=${payload.replaceAll(' ', '%20')}`, headers: { cookie } });
        expect(response.status, page).toBeLessThan(500);
        expectEscaped(response.body, [payload.replaceAll(' ', '%20')], false);
      }
    }
  });

  it('escape markup in a product address that does not exist', async () => {
    for (const payload of MARKUP) {
      const response = await raw(app, { path: `/products/${encodeURIComponent(payload)}` });
      expect(response.status).toBe(404);
      expectEscaped(response.body, [payload], false);
    }
  });

  it('never turn a Referer into a script or a javascript: link on an error page', async () => {
    const browser = app.browser();
    for (const referer of [`${app.url}/${SCRIPT}`, `${app.url}/x?${ATTRIBUTE}`, JAVASCRIPT_URL]) {
      const response = await browser.post('/account', { action: 'delete-account' }).set('Referer', referer);
      expect(response.status).toBe(403);
      expectEscaped(response.text, MARKUP, false);
    }
  });
});

describe('sign-up with markup around a valid email', () => {
  it('refuses addresses holding markup, so none reaches the header', async () => {
    const email = `a"onmouseover="alert(1)@example.com`;
    const response = await app.browser().submit('/register', { email, password: PASSWORD });
    expect(response.status).toBe(422);
    expectEscaped(response.text, [email]);
    expect(await countOf(app, 'users', 'lower(email) LIKE ?', '%onmouseover%')).toBe(0);
  });
});
