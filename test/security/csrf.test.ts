/**
 * Cross-site request forgery: every form that changes something refuses a request that does not
 * carry this browser session's own token in the form body, or that a browser says came from
 * another site; and a refused request changes nothing at all. Each route ends with the control:
 * the very same request with the page's token goes through, so the refusals above are real.
 *
 * The attacking page, for each case below, is of the form:
 *   <form method="post" action="https://shop.example/checkout"><input name="action" value="place-order">…</form>
 *   <script>document.forms[0].submit()</script>
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scalar } from '../rows.ts';
import { type Browser, guestWithCart, startApp, type TestApp } from '../support.ts';
import {
  expectRedirect, guestBrowser, PASSWORD, registeredBrowser, signedInAs, snapshot, tokenFor, uniqueEmail,
} from './attack.ts';

let app: TestApp;
beforeAll(async () => { app = await startApp(); });
afterAll(async () => { await app.close(); });

interface Target {
  /** What the forged request would do. */
  does: string;
  path: string;
  /** The page whose form the request comes from (where the victim's own token is found). */
  form: string;
  victim(): Promise<Browser>;
  fields(): Record<string, string> | Promise<Record<string, string>>;
}

/** A signed-out visitor who has a session (and so a CSRF secret): a product in their session cart. */
async function visitorWithSessionCart(): Promise<Browser> {
  const browser = app.browser();
  expectRedirect(await browser.submit('/products/ember-mug', { productId: 'ember-mug', quantity: '1' }), 'add to cart');
  await browser.get('/cart');
  return browser;
}

async function guestWithCartSettled(): Promise<Browser> {
  const browser = app.browser();
  await guestWithCart(browser);
  await browser.get('/checkout');
  return browser;
}

async function guestWithNote(): Promise<Browser> {
  const browser = await guestBrowser(app);
  expectRedirect(await browser.submit('/try', { action: 'add-note', body: 'keep me' }), 'adding a note');
  await browser.get('/try');
  return browser;
}

const existing = { email: uniqueEmail('existing'), password: PASSWORD };

const targets: Target[] = [
  { does: 'add a product to the cart', path: '/products/candle', form: '/products/candle',
    victim: guestWithCartSettled, fields: () => ({ productId: 'candle', quantity: '3' }) },
  { does: 'change a cart quantity', path: '/cart', form: '/cart',
    victim: guestWithCartSettled, fields: () => ({ action: 'update', productId: 'ember-mug', quantity: '9' }) },
  { does: 'remove a cart line', path: '/cart', form: '/cart',
    victim: guestWithCartSettled, fields: () => ({ action: 'remove', productId: 'ember-mug' }) },
  { does: 'check out as a guest (creating a guest account)', path: '/checkout', form: '/checkout',
    victim: visitorWithSessionCart, fields: () => ({ action: 'guest-checkout' }) },
  { does: 'place an order', path: '/checkout', form: '/checkout', victim: guestWithCartSettled,
    fields: () => ({ action: 'place-order', email: 'mallory@example.com', name: 'Mallory', address: '1 Evil Road', city: 'Evilton', postcode: '666' }) },
  { does: 'convert the guest to an account the attacker knows the password of', path: '/account', form: '/account',
    victim: () => guestBrowser(app), fields: () => ({ action: 'convert-guest', email: uniqueEmail('mallory'), password: PASSWORD }) },
  { does: 'register an account', path: '/register', form: '/register',
    victim: async () => { const browser = app.browser(); await browser.get('/register'); return browser; },
    fields: () => ({ email: uniqueEmail('planted'), password: PASSWORD }) },
  { does: "sign the victim in to the attacker's account (login CSRF)", path: '/login', form: '/login',
    victim: async () => { const browser = app.browser(); await browser.get('/login'); return browser; },
    fields: () => ({ ...existing }) },
  { does: 'sign the victim out', path: '/logout', form: '/logout',
    victim: () => registeredBrowser(app), fields: () => ({}) },
  { does: 'change the password', path: '/account', form: '/account', victim: () => registeredBrowser(app),
    fields: () => ({ action: 'change-password', currentPassword: PASSWORD, newPassword: 'attacker knows this' }) },
  { does: 'delete the account', path: '/account', form: '/account', victim: () => registeredBrowser(app),
    fields: () => ({ action: 'delete-account', password: PASSWORD }) },
  { does: 'add a note', path: '/try', form: '/try', victim: () => guestBrowser(app),
    fields: () => ({ action: 'add-note', body: 'planted by an attacker' }) },
  { does: 'delete a note', path: '/try', form: '/try', victim: guestWithNote,
    fields: async () => ({ action: 'delete-note', noteId: await noteIdOf() }) },
];

async function noteIdOf(): Promise<string> {
  return String(await scalar(app, 'SELECT max(id) FROM notes'));
}

interface Attack {
  name: string;
  send(victim: Browser, path: string, fields: Record<string, string>, ownToken: string, foreignToken: string): Promise<{ status: number }>;
}

const post = (victim: Browser, path: string) => victim.agent.post(path).set('User-Agent', victim.userAgent).type('form');

const attacks: Attack[] = [
  { name: 'without a token', send: (victim, path, fields) => post(victim, path).send(fields) },
  { name: 'with a made-up token',
    send: (victim, path, fields) => post(victim, path).send({ _csrf: 'a3b1c2d3-e4f5a6b7c8d9e0f1a2b3c4d5e6f7', ...fields }) },
  { name: "with the victim's own token altered in one character",
    send: (victim, path, fields, own) => post(victim, path).send({ _csrf: own.slice(0, -1) + (own.endsWith('A') ? 'B' : 'A'), ...fields }) },
  { name: "with a valid token from the attacker's own session",
    send: (victim, path, fields, _own, foreign) => post(victim, path).send({ _csrf: foreign, ...fields }) },
  { name: "with the victim's valid token in the query string only",
    send: (victim, path, fields, own) => post(victim, `${path}?_csrf=${encodeURIComponent(own)}`).send(fields) },
  { name: "with the victim's valid token but a cross-site Origin",
    send: (victim, path, fields, own) => post(victim, path).set('Origin', 'https://evil.example').send({ _csrf: own, ...fields }) },
  { name: "with the victim's valid token but an opaque (null) Origin, as from a sandboxed frame",
    send: (victim, path, fields, own) => post(victim, path).set('Origin', 'null').send({ _csrf: own, ...fields }) },
  { name: "with the victim's valid token, no Origin, and Sec-Fetch-Site: cross-site",
    send: (victim, path, fields, own) => post(victim, path).set('Sec-Fetch-Site', 'cross-site').send({ _csrf: own, ...fields }) },
  { name: "with the victim's valid token under two _csrf fields, one forged",
    send: (victim, path, fields, own) => post(victim, path).send(`_csrf=forged&_csrf=${encodeURIComponent(own)}&${new URLSearchParams(fields)}`) },
];

beforeAll(async () => {
  // The account the login-CSRF attacker wants the victim signed in to.
  expectRedirect(await app.browser().submit('/register', existing), 'registering the attacker account');
});

for (const target of targets) {
  describe(`POST ${target.path} (${target.does})`, () => {
    let victim: Browser;
    let foreignToken: string;
    beforeAll(async () => {
      victim = await target.victim();
      // Any page's token is valid for the whole session it was issued to.
      foreignToken = await tokenFor(app.browser(), '/login');
    });

    for (const attack of attacks) {
      it(`answers 403 and changes nothing ${attack.name}`, async () => {
        const ownToken = await tokenFor(victim, target.form);
        const identity = await signedInAs(victim);
        const fields = await target.fields();
        const before = await snapshot(app);
        const response = await attack.send(victim, target.path, fields, ownToken, foreignToken);
        expect(response.status).toBe(403);
        expect(await snapshot(app)).toEqual(before);
        expect(await signedInAs(victim)).toBe(identity);
      });
    }

    it('goes through with the page\'s own token from the same site (the control)', async () => {
      const ownToken = await tokenFor(victim, target.form);
      const fields = await target.fields();
      const before = await snapshot(app);
      const response = await post(victim, target.path).set('Origin', app.url).send({ _csrf: ownToken, ...fields });
      expect(response.status).toBe(303);
      expect(await snapshot(app)).not.toEqual(before);
    });
  });
}
