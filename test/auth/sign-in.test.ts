import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { firstRow } from '../rows.ts';
import { guestWithCart, startApp, type Browser, type TestApp } from '../support.ts';
import {
  accountRow, becomeGuest, clearsCookie, countRows, eventsOf, parseResumeToken, PASSWORD, register, RESUME_COOKIE,
  setCookieLine,
} from '../visitors.ts';

const INCORRECT = 'Email or password is incorrect.';

let app: TestApp;
beforeEach(async () => { app = await startApp(); });
afterEach(async () => { await app.close(); });

function logIn(browser: Browser, email: string, password: string) {
  return browser.submit('/login', { email, password });
}

/** The login page's messages: the alert and any field errors. */
function errorsOn(html: string): string[] {
  return [...html.matchAll(/<p class="(?:error|field-error)"[^>]*>([^<]*)<\/p>/g)].map((match) => match[1]!);
}

describe('signing up at /register', () => {
  it('creates a registered record in users and signs the visitor in', async () => {
    const browser = app.browser();
    await register(browser, ' New.Person@Example.com ');
    const row = (await firstRow<{ email: string; is_anonymous: number; password_hash: string }>(app, 'SELECT * FROM users'))!;
    expect(row).toMatchObject({ email: 'new.person@example.com', is_anonymous: 0 });
    expect(row.password_hash).toMatch(/^\$2[aby]\$10\$/);
    expect(await countRows(app, 'customers')).toBe(0);
    expect((await browser.get('/account')).text).toContain('Signed in as <strong>new.person@example.com</strong>');
  });

  it('converts a guest who registers, keeping their id and their notes', async () => {
    const browser = app.browser();
    const id = await becomeGuest(browser);
    await browser.submit('/try', { action: 'add-note', body: 'my first idea' });
    await register(browser, 'guest.now@example.com');
    expect(await countRows(app, 'users')).toBe(1);
    expect(await accountRow(app, 'users', id)).toMatchObject({ email: 'guest.now@example.com', is_anonymous: 0 });
    expect((await browser.get('/try')).text).toContain('my first idea');
  });

  it('answers 409 when the email is taken in another collection', async () => {
    const customer = app.browser();
    await guestWithCart(customer);
    await customer.submit('/account', { action: 'convert-guest', email: 'shared@example.com', password: PASSWORD });
    const page = await app.browser().submit('/register', { email: 'shared@example.com', password: PASSWORD });
    expect(page.status).toBe(409);
    expect(page.text).toContain('value="shared@example.com"');
    expect(errorsOn(page.text)).toEqual(['An account with this email already exists. Sign in instead.']);
    expect(await countRows(app, 'users')).toBe(0);
  });

  it('applies the same password rules as conversion (422, message next to the field)', async () => {
    const page = await app.browser().submit('/register', { email: 'short@example.com', password: '😀'.repeat(7) });
    expect(page.status).toBe(422);
    expect(page.text).toContain('<p class="field-error" id="password-error">Use at least 8 characters for your password.</p>');
    expect(await countRows(app, 'accounts')).toBe(0);
  });

  it('refuses an address at the reserved guest.invalid domain (422)', async () => {
    const page = await app.browser().submit('/register', { email: 'guest-abc@guest.invalid', password: PASSWORD });
    expect(page.status).toBe(422);
    expect(page.text).toContain('<p class="field-error" id="email-error">Enter a valid email address, like name@example.com.</p>');
  });
});

describe('signing in at /login', () => {
  it('signs in a customers guest converted at checkout, from another browser', async () => {
    const customer = app.browser();
    await guestWithCart(customer);
    const id = parseResumeToken(customer.cookie(RESUME_COOKIE)!).id;
    await customer.submit('/account', { action: 'convert-guest', email: 'buyer@example.com', password: PASSWORD });

    const elsewhere = app.browser();
    const response = await logIn(elsewhere, 'Buyer@Example.com', PASSWORD);
    expect(response.status).toBe(303);
    expect((await elsewhere.get('/account')).text).toContain('Signed in as <strong>buyer@example.com</strong>');
    expect((await elsewhere.get('/cart')).text).toContain('Ember Mug');
    expect((await eventsOf(app, 'signed_in')).map((event) => event.record_id)).toEqual([id]);
  });

  it('says only "Email or password is incorrect." for an unknown email and for a wrong password alike', async () => {
    await register(app.browser(), 'known@example.com');
    const unknown = await logIn(app.browser(), 'nobody@example.com', PASSWORD);
    const wrong = await logIn(app.browser(), 'known@example.com', 'not the password');
    for (const page of [unknown, wrong]) {
      expect(page.status).toBe(401);
      expect(errorsOn(page.text)).toEqual([INCORRECT]);
      expect(page.text).not.toContain('aria-invalid');
    }
    expect(unknown.text).toContain('value="nobody@example.com"');
  });

  it('refuses a guest\'s own credentials (its random email and resume secret)', async () => {
    const browser = app.browser();
    const id = await becomeGuest(browser);
    const token = decodeURIComponent(browser.cookie(RESUME_COOKIE)!);
    const { email } = (await accountRow(app, 'users', id))!;
    for (const password of [parseResumeToken(token).secret, token]) {
      const page = await logIn(app.browser(), email, password);
      expect(page.status).toBe(401);
      expect(errorsOn(page.text)).toEqual([INCORRECT]);
    }
    expect(await eventsOf(app, 'signed_in')).toEqual([]);
  });
});

describe('signing out at /logout', () => {
  it('is a POST: visiting /logout signs nobody out', async () => {
    const browser = app.browser();
    await register(browser, 'stay@example.com');
    const page = await browser.get('/logout');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<form method="post"');
    expect((await browser.get('/account')).status).toBe(200);
  });

  it('refuses a sign-out without the page\'s CSRF token (403)', async () => {
    const browser = app.browser();
    await register(browser, 'stay@example.com');
    expect((await browser.post('/logout')).status).toBe(403);
    expect((await browser.get('/account')).status).toBe(200);
  });

  it('lets a guest who signs out softly come back as the same guest, with their notes', async () => {
    const browser = app.browser();
    const id = await becomeGuest(browser);
    await browser.submit('/try', { action: 'add-note', body: 'keep me' });
    const out = await browser.submit('/logout');
    expect(out.status).toBe(303);
    expect(clearsCookie(out, RESUME_COOKIE)).toBe(false);
    expect(setCookieLine(out, RESUME_COOKIE)).toBeDefined();
    expect((await browser.get('/account')).status).toBe(302);

    expect((await browser.get('/try')).status).toBe(302);
    const back = await browser.get('/try');
    expect(back.text).toContain('keep me');
    expect(await countRows(app, 'users')).toBe(1);
    expect(parseResumeToken(browser.cookie(RESUME_COOKIE)!).id).toBe(id);
  });

  it('forgets the guest with forget=yes: the resume cookie is cleared and /try makes a new guest', async () => {
    const browser = app.browser();
    const id = await becomeGuest(browser);
    const out = await browser.submit('/logout', { forget: 'yes' });
    expect(clearsCookie(out, RESUME_COOKIE)).toBe(true);
    const newId = await becomeGuest(browser);
    expect(newId).not.toBe(id);
    expect(await countRows(app, 'users')).toBe(2);
  });

  it('always clears the resume cookie for a registered user', async () => {
    const browser = app.browser();
    await register(browser, 'leaving@example.com');
    const out = await browser.submit('/logout');
    expect(out.status).toBe(303);
    expect(clearsCookie(out, RESUME_COOKIE)).toBe(true);
    expect((await browser.get('/account')).status).toBe(302);
  });
});
