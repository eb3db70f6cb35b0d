/**
 * Email verification end to end: conversion and registration mail a link (a day, once, bound to
 * the address) whose use sets email_verified_at (and `verified` with it). With
 * EMAIL_VERIFICATION=required, a converting guest stays a guest until the link is followed
 * (seed 004's confirmation_required: the password is kept at once, the session stays anonymous,
 * the page says to check the inbox), and registration signs nobody in until then.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SmtpHarness } from '../mail/smtp.ts';
import type { Browser, TestApp } from '../support.ts';
import { becomeGuest, PASSWORD, sessionCookieOf, sessionSignsIn } from '../visitors.ts';
import { APP_URL, followLink, mailedLink, queuedRecipients, startMailApp, withoutCsrf, type MailApp } from './mail-links.ts';

let mail: MailApp;
let app: TestApp;
let smtp: SmtpHarness;
afterEach(async () => { await mail.close(); });

async function start(env: Record<string, string> = {}): Promise<void> {
  mail = await startMailApp(env);
  ({ app, smtp } = mail);
}

async function verifiedState(email: string) {
  return (await app.sql<{ verified: number; email_verified_at: number | null; is_anonymous: number }>(
    'SELECT verified, email_verified_at, is_anonymous FROM users WHERE email = ?', email))[0];
}

async function convert(browser: Browser, email: string) {
  return browser.submit('/account', { action: 'convert-guest', email, password: PASSWORD });
}

const eventTypes = async (id: string) => (await app.sql<{ type: string }>('SELECT type FROM auth_events WHERE record_id = ? ORDER BY id', id))
  .map((event) => event.type);

describe('EMAIL_VERIFICATION=optional (the default)', () => {
  it('registration signs in at once and mails a link that marks the address verified', async () => {
    await start();
    const browser = app.browser();
    expect((await browser.submit('/register', { email: 'ada@example.com', password: PASSWORD })).status).toBe(303);
    expect(await verifiedState('ada@example.com')).toEqual({ verified: 0, email_verified_at: null, is_anonymous: 0 });
    const link = await mailedLink(smtp, 'ada@example.com', '/verify-email');
    expect(link.mail.subject).toBe('Confirm your email address for guestkit shop');
    expect(link.url.startsWith(`${APP_URL}/verify-email?token=`)).toBe(true);
    expect(link.mail.text).toContain('ada@example.com');
    expect((await browser.get('/account')).text).toContain('Follow the link we sent to <strong>ada@example.com</strong> to confirm it is yours.');

    expect((await followLink(browser, link)).status).toBe(303);
    expect(await verifiedState('ada@example.com')).toEqual({ verified: 1, email_verified_at: expect.any(Number), is_anonymous: 0 });
    const [row] = await app.sql<{ id: string }>('SELECT id FROM users WHERE email = ?', 'ada@example.com');
    expect(await eventTypes(row!.id)).toEqual(['registered', 'email_verified']);
    expect((await browser.get('/account')).text).not.toContain('Confirm your email address');
  });

  it('conversion keeps the guest\'s id, signs in at once, and mails the link in the same transaction', async () => {
    await start();
    const browser = app.browser();
    const guestId = await becomeGuest(browser);
    expect((await convert(browser, 'grace@example.com')).status).toBe(303);
    expect(await verifiedState('grace@example.com')).toMatchObject({ is_anonymous: 0, verified: 0 });
    const link = await mailedLink(smtp, 'grace@example.com', '/verify-email');
    await followLink(app.browser(), link);
    expect(await verifiedState('grace@example.com')).toMatchObject({ verified: 1 });
    expect(await eventTypes(guestId)).toEqual(['guest_created', 'guest_converted', 'email_verified']);
  });

  it('sends the link again from the account page', async () => {
    await start();
    const browser = app.browser();
    await browser.submit('/register', { email: 'ada@example.com', password: PASSWORD });
    const again = await browser.submit('/account', { action: 'resend-verification' });
    expect(again.status).toBe(303);
    expect((await browser.get('/account')).text).toContain('A new link is on its way to ada@example.com.');
    expect(await queuedRecipients(app)).toEqual(['ada@example.com', 'ada@example.com']);
    // Either link works; the first one used verifies the address.
    await followLink(app.browser(), await mailedLink(smtp, 'ada@example.com', '/verify-email', 1));
    expect(await verifiedState('ada@example.com')).toMatchObject({ verified: 1 });
  });
});

describe('EMAIL_VERIFICATION=required: a converting guest', () => {
  it('stays a guest: the password is kept at once, the session stays anonymous, the page says to check the inbox', async () => {
    await start({ EMAIL_VERIFICATION: 'required' });
    const browser = app.browser();
    const guestId = await becomeGuest(browser);
    const saved = await convert(browser, 'grace@example.com');
    expect(saved.status).toBe(303);
    const page = await browser.get('/account');
    expect(page.text).toContain('Check your inbox: follow the link we sent to grace@example.com to finish saving your account.');
    expect(page.text).toContain('You are a <strong>guest</strong>.');
    expect(await app.sql('SELECT is_anonymous FROM users WHERE id = ?', guestId)).toEqual([{ is_anonymous: 1 }]);
    const [pending] = await app.sql<{ email: string; password_hash: string }>('SELECT email, password_hash FROM pending_conversions WHERE account_id = ?', guestId);
    expect(pending).toEqual({ email: 'grace@example.com', password_hash: expect.stringMatching(/^\$2[aby]\$10\$/) });
    expect(await eventTypes(guestId)).toEqual(['guest_created']);
    // The password does not sign in yet: there is no account with it.
    expect((await app.browser().submit('/login', { email: 'grace@example.com', password: PASSWORD })).status).toBe(401);
  });

  it('becomes the account (same id) when the link is followed on another device, which is then signed in', async () => {
    await start({ EMAIL_VERIFICATION: 'required' });
    const browser = app.browser();
    const guestId = await becomeGuest(browser);
    await browser.submit('/try', { action: 'add-note', body: 'kept' });
    await convert(browser, 'grace@example.com');
    const link = await mailedLink(smtp, 'grace@example.com', '/verify-email');
    const phone = app.browser();
    const opened = await phone.get(link.path);
    expect(opened.text).toContain('Confirm that <strong>grace@example.com</strong> is yours, and sign in.');
    expect((await followLink(phone, link)).status).toBe(303);

    expect(await app.sql('SELECT id, is_anonymous, verified FROM users WHERE email = ?', 'grace@example.com'))
      .toEqual([{ id: guestId, is_anonymous: 0, verified: 1 }]);
    expect(await app.sql('SELECT * FROM pending_conversions')).toEqual([]);
    expect(await eventTypes(guestId)).toEqual(['guest_created', 'guest_converted', 'email_verified']);
    expect((await phone.get('/account')).text).toContain('Signed in as <strong>grace@example.com</strong>');
    expect((await phone.get('/try')).text).toContain('kept');
    expect((await app.browser().submit('/login', { email: 'grace@example.com', password: PASSWORD })).status).toBe(303);
  });

  it('the browser it converted on is the account from its next request, with a new session id', async () => {
    await start({ EMAIL_VERIFICATION: 'required' });
    const browser = app.browser();
    await becomeGuest(browser);
    await convert(browser, 'grace@example.com');
    const before = sessionCookieOf(browser);
    await followLink(app.browser(), await mailedLink(smtp, 'grace@example.com', '/verify-email'));
    expect((await browser.get('/account')).text).toContain('Signed in as <strong>grace@example.com</strong>');
    expect(sessionCookieOf(browser)).not.toBe(before);
    expect(await sessionSignsIn(app, before)).toBe(false);
  });

  it('sends the link again from the account page, to the address it waits on', async () => {
    await start({ EMAIL_VERIFICATION: 'required' });
    const browser = app.browser();
    await becomeGuest(browser);
    await convert(browser, 'grace@example.com');
    expect((await browser.get('/account')).text).toContain('Follow the link we sent to <strong>grace@example.com</strong> to finish saving your account.');
    await browser.submit('/account', { action: 'resend-verification' });
    expect(await queuedRecipients(app)).toEqual(['grace@example.com', 'grace@example.com']);
  });

  it('a link for an address asked for before another: only the newest address can be confirmed', async () => {
    await start({ EMAIL_VERIFICATION: 'required' });
    const browser = app.browser();
    await becomeGuest(browser);
    await convert(browser, 'first@example.com');
    const first = await mailedLink(smtp, 'first@example.com', '/verify-email');
    await convert(browser, 'second@example.com');
    const page = await app.browser().get(first.path);
    expect(page.status).toBe(400);
    expect(page.text).toContain('<h1>This link does not work</h1>');
    await followLink(app.browser(), await mailedLink(smtp, 'second@example.com', '/verify-email'));
    expect(await app.sql('SELECT email, is_anonymous FROM users WHERE email LIKE ?', '%@example.com')).toEqual([{ email: 'second@example.com', is_anonymous: 0 }]);
  });

  it('an address someone registered meanwhile: 409 with a way to sign in, and the guest stays a guest', async () => {
    await start({ EMAIL_VERIFICATION: 'required' });
    const browser = app.browser();
    const guestId = await becomeGuest(browser);
    await convert(browser, 'grace@example.com');
    const link = await mailedLink(smtp, 'grace@example.com', '/verify-email');
    const other = app.browser();
    await becomeGuest(other);
    await convert(other, 'grace@example.com');
    await followLink(app.browser(), await mailedLink(smtp, 'grace@example.com', '/verify-email', 1));

    const refused = await followLink(app.browser(), link);
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('An account with this email already exists. Sign in instead.');
    expect(await app.sql('SELECT is_anonymous FROM users WHERE id = ?', guestId)).toEqual([{ is_anonymous: 1 }]);
    expect(await app.sql(`SELECT used_at FROM account_tokens WHERE account_id = ?`, guestId)).toEqual([{ used_at: null }]);
  });
});

describe('EMAIL_VERIFICATION=required: registration', () => {
  it('signs nobody in and says to check the inbox; the link verifies and signs in', async () => {
    await start({ EMAIL_VERIFICATION: 'required' });
    const browser = app.browser();
    const registered = await browser.submit('/register', { email: 'ada@example.com', password: PASSWORD });
    expect(registered.status).toBe(200);
    expect(registered.text).toContain('Check your inbox: follow the link we sent to <strong>ada@example.com</strong> to finish creating your account.');
    expect((await browser.get('/account')).status).toBe(302);

    await followLink(browser, await mailedLink(smtp, 'ada@example.com', '/verify-email'));
    expect((await browser.get('/account')).text).toContain('Signed in as <strong>ada@example.com</strong>');
    expect(await verifiedState('ada@example.com')).toMatchObject({ verified: 1 });
  });

  it('refuses the right password before then (403 email_not_verified, offering the link again); a wrong one is just wrong', async () => {
    await start({ EMAIL_VERIFICATION: 'required' });
    await app.browser().submit('/register', { email: 'ada@example.com', password: PASSWORD });
    const right = await app.browser().submit('/login', { email: 'ada@example.com', password: PASSWORD });
    expect(right.status).toBe(403);
    expect(right.text).toContain('Confirm your email address first: follow the link we sent you, or ask for a new one.');
    expect(right.text).toContain('action="/verify-email"');
    const wrong = await app.browser().submit('/login', { email: 'ada@example.com', password: 'not the password' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).not.toContain('Confirm your email address first');
  });

  it('sends the link again to a signed-out visitor with the same answer whether or not such an account waits', async () => {
    await start({ EMAIL_VERIFICATION: 'required' });
    await app.browser().submit('/register', { email: 'ada@example.com', password: PASSWORD });
    await app.browser().submit('/register', { email: 'done@example.com', password: PASSWORD });
    await followLink(app.browser(), await mailedLink(smtp, 'done@example.com', '/verify-email'));
    const answers = await Promise.all(['ada@example.com', 'done@example.com', 'nobody@example.com'].map(async (email) => {
      const page = await app.browser().submit('/verify-email', { email });
      expect(page.status).toBe(200);
      return withoutCsrf(/<main[\s\S]*<\/main>/.exec(page.text)![0]).replace(email, 'EMAIL');
    }));
    expect(new Set(answers).size).toBe(1);
    // The two registrations' links, and the new one for the account still waiting.
    expect((await queuedRecipients(app)).sort()).toEqual(['ada@example.com', 'ada@example.com', 'done@example.com']);
  });
});

describe('a verification link that cannot be used: a readable 400 offering a new one, and nothing changes', () => {
  async function expectRefused(path: string, heading: string) {
    const page = await app.browser().get(path);
    expect(page.status).toBe(400);
    expect(page.text).toContain(`<h1>${heading}</h1>`);
    expect(page.text).toContain('<a class="button" href="/verify-email">Send me a new link</a>');
  }

  it('used, expired, garbled, or a token of another purpose', async () => {
    await start({ EMAIL_VERIFICATION: 'required' });
    await app.browser().submit('/register', { email: 'ada@example.com', password: PASSWORD });
    await app.browser().submit('/register', { email: 'bob@example.com', password: PASSWORD });
    const ada = await mailedLink(smtp, 'ada@example.com', '/verify-email');
    await followLink(app.browser(), ada);
    await expectRefused(ada.path, 'This link has been used');

    const bob = await mailedLink(smtp, 'bob@example.com', '/verify-email');
    await app.sql(`UPDATE account_tokens SET expires_at = ? WHERE purpose = 'email_verification' AND used_at IS NULL`, Date.now() - 1);
    await expectRefused(bob.path, 'This link has expired');
    await expectRefused(`${bob.path.slice(0, -2)}`, 'This link does not work');

    await app.browser().submit('/forgot-password', { email: 'bob@example.com' });
    const reset = await mailedLink(smtp, 'bob@example.com', '/reset-password');
    await expectRefused(`/verify-email?token=${reset.token}`, 'This link does not work');
    expect(await verifiedState('bob@example.com')).toMatchObject({ verified: 0 });
  });
});
