import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { becomeGuest, PASSWORD, register } from '../visitors.ts';
import { guestWithCart, startApp, type Browser, type TestApp } from '../support.ts';
import { addToCart, errorFor, flashesOf, placeOrder, titleOf, unlabelledControls, valueOf } from './shop.ts';

let app: TestApp;
beforeAll(async () => { app = await startApp(); });
afterAll(async () => { await app.close(); });

/** Every storefront page, as each kind of visitor sees it (with a cart, so checkout shows its form). */
async function visitors(): Promise<Array<[string, Browser, string[]]>> {
  const signedOut = app.browser();
  await addToCart(signedOut, 'ember-mug', 1);
  const guest = app.browser();
  await guestWithCart(guest);
  const guestOrder = await placeOrder(guest);
  await addToCart(guest, 'candle', 1);
  const user = app.browser();
  await register(user, `pages-${Date.now()}@example.com`);
  await addToCart(user, 'candle', 1);
  const userOrder = await placeOrder(user);
  await addToCart(user, 'candle', 1);
  // /try last: it makes a signed-out visitor a guest.
  const common = ['/', '/products/ember-mug', '/cart', '/checkout', '/login', '/register', '/logout', '/no-such-page', '/products/nope', '/try'];
  return [
    ['a signed-out visitor', signedOut, common],
    ['a guest', guest, ['/account', `/orders/${guestOrder}`, ...common]],
    ['a registered user', user, ['/account', `/orders/${userOrder}`, ...common]],
  ];
}

describe('every page', () => {
  it('has a title naming the page and the shop, and a label for every input', async () => {
    for (const [who, browser, paths] of await visitors()) {
      for (const path of paths) {
        let response = await browser.get(path);
        if (response.status === 302) response = await browser.get(response.headers.location ?? path); // /try's one reload
        const where = `${path} for ${who} (${response.status})`;
        expect(titleOf(response.text), where).toMatch(/^[^·]+ · guestkit shop$/);
        expect(unlabelledControls(response.text), where).toEqual([]);
      }
    }
  });

  it('gives the main pages distinct titles', async () => {
    const browser = app.browser();
    await becomeGuest(browser);
    const titles = new Set<string>();
    for (const path of ['/', '/products/ember-mug', '/cart', '/checkout', '/try', '/login', '/register', '/account', '/nope']) {
      titles.add(titleOf((await browser.get(path)).text)!);
    }
    expect(titles.size).toBe(9);
    expect(titles).toContain('Ember Mug · guestkit shop');
    expect(titles).toContain('Page not found · guestkit shop');
  });

  it('answers 404 with the not-found page for an unknown address', async () => {
    const response = await app.browser().get('/aisle-9');
    expect(response.status).toBe(404);
    expect(response.text).toContain('<h1>Page not found</h1>');
    expect(response.text).toContain('href="/"');
  });
});

describe('the header', () => {
  it('offers a signed-out visitor Sign in and Create account, and no Sign out button', async () => {
    const response = await app.browser().get('/');
    expect(response.text).toContain('<a href="/login">Sign in</a>');
    expect(response.text).toContain('<a class="button button-small" href="/register">Create account</a>');
    expect(response.text).not.toContain('action="/logout"');
  });

  it('shows a guest "Guest", a "Save your account" link to the form, and a Sign out button', async () => {
    const browser = app.browser();
    await becomeGuest(browser);
    const response = await browser.get('/');
    expect(response.text).toContain('<a class="pill pill-guest" href="/account">Guest</a>');
    expect(response.text).toContain('<a class="button button-small" href="/account#save">Save your account</a>');
    expect(response.text).toMatch(/<form method="post" action="\/logout"[^>]*>[\s\S]*?<button type="submit"[^>]*>Sign out<\/button>/);
    expect((await browser.get('/account')).text).toContain('id="save"');
  });

  it('shows a registered user their email (escaped) and no guest link', async () => {
    const browser = app.browser();
    await register(browser, 'o\'brien@example.com');
    const response = await browser.get('/');
    expect(response.text).toContain('<a class="pill" href="/account">o&#39;brien@example.com</a>');
    expect(response.text).not.toContain('Save your account');
    expect(response.text).not.toContain('>Guest<');
  });
});

describe('flash messages', () => {
  it('appear once, on the page after the redirect', async () => {
    const browser = app.browser();
    await addToCart(browser, 'ember-mug', 1);
    expect(flashesOf((await browser.get('/cart')).text)).toEqual(['Ember Mug is in your cart.']);
    expect(flashesOf((await browser.get('/cart')).text)).toEqual([]);
  });

  it('are announced politely (role="status")', async () => {
    const browser = app.browser();
    await addToCart(browser, 'ember-mug', 1);
    expect((await browser.get('/cart')).text).toMatch(/<div class="flashes" role="status">\s*<p class="flash flash-success">/);
  });

  it('survive a sign-in (the session id changes) and a sign-out', async () => {
    const browser = app.browser();
    await register(browser, 'flash@example.com');
    await browser.submit('/logout', {}, '/');
    expect(flashesOf((await browser.get('/')).text)).toEqual(['You are signed out.']);
    await browser.submit('/login', { email: 'flash@example.com', password: PASSWORD });
    expect(flashesOf((await browser.get('/')).text)).toEqual(['Welcome back!']);
  });
});

describe('POST /logout', () => {
  it('signs out and redirects home', async () => {
    const browser = app.browser();
    await register(browser, 'leaver@example.com');
    const response = await browser.submit('/logout', {}, '/');
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/');
    expect((await browser.get('/account')).status).toBe(302);
  });

  it('answers 403 without the CSRF token and leaves the visitor signed in', async () => {
    const browser = app.browser();
    await register(browser, 'stayer@example.com');
    expect((await browser.post('/logout')).status).toBe(403);
    expect((await browser.get('/account')).status).toBe(200);
  });
});

describe('/login and /register', () => {
  it('re-render with the error next to its field and the email kept', async () => {
    const browser = app.browser();
    const invalid = await browser.submit('/register', { email: 'not-an-email', password: PASSWORD });
    expect(invalid.status).toBe(422);
    expect(errorFor(invalid.text, 'email')).toBeTruthy();
    expect(valueOf(invalid.text, 'email')).toBe('not-an-email');
    const short = await browser.submit('/register', { email: 'fine@example.com', password: 'short' });
    expect(short.status).toBe(422);
    expect(errorFor(short.text, 'password')).toMatch(/at least 8 characters/);
    expect(valueOf(short.text, 'email')).toBe('fine@example.com');
    const wrong = await browser.submit('/login', { email: 'nobody@example.com', password: PASSWORD });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('role="alert"');
    expect(valueOf(wrong.text, 'email')).toBe('nobody@example.com');
  });

  it('answer 409 when the email is taken', async () => {
    await register(app.browser(), 'taken@example.com');
    const response = await app.browser().submit('/register', { email: 'taken@example.com', password: PASSWORD });
    expect(response.status).toBe(409);
    expect(errorFor(response.text, 'email')).toBeTruthy();
  });

  it('answer 403 without the CSRF token', async () => {
    const browser = app.browser();
    await browser.get('/login');
    expect((await browser.post('/register', { email: 'forged@example.com', password: PASSWORD })).status).toBe(403);
    expect((await browser.post('/login', { email: 'forged@example.com', password: PASSWORD })).status).toBe(403);
  });
});
