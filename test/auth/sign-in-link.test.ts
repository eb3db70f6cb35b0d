/**
 * Sign-in links ("magic links") end to end: the form never tells whether an account has the
 * address; the mailed link works once, for 15 minutes, for its account only; opening it changes
 * nothing until its button is pressed; a guest following it keeps their cart, orders and notes,
 * exactly as a password sign-in does.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SmtpHarness } from '../mail/smtp.ts';
import { type Browser, type TestApp } from '../support.ts';
import { clearsCookie, parseResumeToken, register, RESUME_COOKIE, sessionCookieOf, sessionSignsIn } from '../visitors.ts';
import { APP_URL, followLink, mailedLink, queuedRecipients, startMailApp, withoutCsrf, type MailApp } from './mail-links.ts';

let mail: MailApp;
let app: TestApp;
let smtp: SmtpHarness;
beforeEach(async () => { mail = await startMailApp(); ({ app, smtp } = mail); });
afterEach(async () => { await mail.close(); });

async function userId(email: string): Promise<string> {
  return (await app.sql<{ id: string }>('SELECT id FROM users WHERE email = ?', email))[0]!.id;
}

async function askForLink(email: string, browser: Browser = app.browser()) {
  return browser.submit('/sign-in-link', { email });
}

async function signInLink(email = 'ada@example.com', browser?: Browser) {
  await askForLink(email, browser);
  return mailedLink(smtp, email, '/sign-in-link');
}

const mainOf = (html: string) => /<main[\s\S]*<\/main>/.exec(html)![0];

describe('asking for a sign-in link', () => {
  it('mails the account a 15-minute link to /sign-in-link from APP_URL', async () => {
    await register(app.browser(), 'ada@example.com');
    const asked = await askForLink('ADA@example.com');
    expect(asked.status).toBe(200);
    expect(asked.text).toContain('If an account uses <strong>ada@example.com</strong>, a sign-in link is on its way there.');
    const link = await mailedLink(smtp, 'ada@example.com', '/sign-in-link');
    expect(link.mail.subject).toBe('Your sign-in link for guestkit shop');
    expect(link.url.startsWith(`${APP_URL}/sign-in-link?token=`)).toBe(true);
    expect(link.mail.text).toContain('15 minutes');
  });

  it('answers an address with no account with the very same page, and mails nothing there', async () => {
    await register(app.browser(), 'ada@example.com');
    const known = await askForLink('ada@example.com');
    const unknown = await askForLink('zed@example.com');
    expect(withoutCsrf(mainOf(unknown.text)).replace('zed@example.com', 'ada@example.com')).toBe(withoutCsrf(mainOf(known.text)));
    expect(await queuedRecipients(app)).toEqual(['ada@example.com', 'ada@example.com']);
  });

  it('is offered on the sign-in page', async () => {
    expect((await app.browser().get('/login')).text).toContain('<a href="/sign-in-link">Email me a sign-in link</a>');
  });
});

describe('following the link', () => {
  it('signs a fresh browser in once its button is pressed, with link_sign_in in the audit trail', async () => {
    await register(app.browser(), 'ada@example.com');
    const link = await signInLink();
    const fresh = app.browser();
    const opened = await fresh.get(link.path);
    expect(opened.status).toBe(200);
    expect(opened.text).toContain('Sign in to guestkit shop as <strong>ada@example.com</strong>.');
    expect((await fresh.get('/account')).status).toBe(302); // opening it signed nobody in
    const done = await followLink(fresh, link);
    expect(done.status).toBe(303);
    expect((await fresh.get('/account')).text).toContain('Signed in as <strong>ada@example.com</strong>');
    const id = await userId('ada@example.com');
    const events = await app.sql<{ record_id: string; detail: unknown }>(`SELECT record_id, detail FROM auth_events WHERE type = 'link_sign_in'`);
    // SQLite keeps the detail as JSON text, PostgreSQL as jsonb.
    expect(events.map((event) => ({ ...event, detail: typeof event.detail === 'string' ? JSON.parse(event.detail) : event.detail })))
      .toEqual([{ record_id: id, detail: { via: 'sign_in_link' } }]);
  });

  it('gives a browser that had a session a new session id', async () => {
    await register(app.browser(), 'ada@example.com');
    const browser = app.browser();
    await browser.get('/try');
    const before = sessionCookieOf(browser);
    await followLink(browser, await signInLink('ada@example.com', browser));
    expect(sessionCookieOf(browser)).not.toBe(before);
    expect(await sessionSignsIn(app, before)).toBe(false);
  });

  it('verifies an address not verified yet: the link proves the mailbox', async () => {
    await register(app.browser(), 'ada@example.com');
    expect(await app.sql('SELECT verified, email_verified_at FROM users')).toEqual([{ verified: 0, email_verified_at: null }]);
    await followLink(app.browser(), await signInLink());
    const [row] = await app.sql<{ verified: number; email_verified_at: number | null }>('SELECT verified, email_verified_at FROM users');
    expect(row).toEqual({ verified: 1, email_verified_at: expect.any(Number) });
  });

  it('merges a guest into the account: cart, orders and notes kept, the guest deleted, its resume cookie cleared', async () => {
    await register(app.browser(), 'ada@example.com');
    const guest = app.browser();
    await guest.submit('/products/candle', { productId: 'candle', quantity: '1' });
    await guest.submit('/checkout', { action: 'guest-checkout' });
    await guest.submit('/checkout', { action: 'place-order', name: 'Ada', address: '1 Loop Rd', city: 'Leeds', postcode: 'LS1', email: 'ada@example.com' });
    await guest.submit('/products/ember-mug', { productId: 'ember-mug', quantity: '2' });
    await guest.submit('/try', { action: 'add-note', body: 'gift ideas' });
    const guestId = parseResumeToken(guest.cookie(RESUME_COOKIE)!).id;

    const done = await followLink(guest, await signInLink('ada@example.com', guest));
    expect(done.status).toBe(303);
    expect(clearsCookie(done, RESUME_COOKIE)).toBe(true);
    const id = await userId('ada@example.com');
    expect(await app.sql('SELECT product_id, quantity FROM cart_items WHERE account_id = ?', id)).toEqual([{ product_id: 'ember-mug', quantity: 2 }]);
    expect(await app.sql('SELECT body FROM notes WHERE account_id = ?', id)).toEqual([{ body: 'gift ideas' }]);
    expect(await app.sql('SELECT id FROM orders WHERE account_id = ?', id)).toHaveLength(1);
    expect(await app.sql('SELECT id FROM accounts WHERE id = ?', guestId)).toEqual([]);
    expect(await app.sql(`SELECT record_id FROM auth_events WHERE type = 'guest_merged'`)).toEqual([{ record_id: guestId }]);
  });
});

describe('a link that cannot be used: a readable 400 offering a new one, and nobody is signed in', () => {
  async function expectRefused(path: string, heading: string) {
    const browser = app.browser();
    const page = await browser.get(path);
    expect(page.status).toBe(400);
    expect(page.text).toContain(`<h1>${heading}</h1>`);
    expect(page.text).toContain('<a class="button" href="/sign-in-link">Send me a new link</a>');
    expect((await browser.get('/account')).status).toBe(302);
  }

  it('used already: the second browser is not signed in', async () => {
    await register(app.browser(), 'ada@example.com');
    const link = await signInLink();
    await followLink(app.browser(), link);
    await expectRefused(link.path, 'This link has been used');
  });

  it('expired after 15 minutes', async () => {
    await register(app.browser(), 'ada@example.com');
    const link = await signInLink();
    await app.sql(`UPDATE account_tokens SET expires_at = ? WHERE purpose = 'sign_in_link'`, Date.now() - 1);
    await expectRefused(link.path, 'This link has expired');
  });

  it('garbled', async () => {
    await register(app.browser(), 'ada@example.com');
    const link = await signInLink();
    await expectRefused(link.path.replace(/.$/, (last) => (last === 'A' ? 'B' : 'A')), 'This link does not work');
    await expectRefused('/sign-in-link?token=../../etc/passwd', 'This link does not work');
  });

  it('a reset link or a verification link: another purpose signs nobody in', async () => {
    await register(app.browser(), 'ada@example.com');
    const verification = await mailedLink(smtp, 'ada@example.com', '/verify-email');
    await expectRefused(`/sign-in-link?token=${verification.token}`, 'This link does not work');
    await app.browser().submit('/forgot-password', { email: 'ada@example.com' });
    const reset = await mailedLink(smtp, 'ada@example.com', '/reset-password');
    await expectRefused(`/sign-in-link?token=${reset.token}`, 'This link does not work');
  });

  it('for an account deleted since', async () => {
    const owner = app.browser();
    await register(owner, 'ada@example.com');
    const link = await signInLink();
    await owner.submit('/account', { action: 'delete-account', password: 'correct horse battery' });
    await expectRefused(link.path, 'This link does not work');
  });
});
