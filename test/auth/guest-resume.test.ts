/**
 * Cross-device resume for a guest, end to end: the guest's account page mails a link to any
 * address; opened on another device it brings the same guest there (same id, cart, orders,
 * notes), no password. The guest moves: the new device gets a session and a resume cookie, and
 * the old device's session and resume cookie stop working. The link works once, for a day,
 * and only while the guest is the guest it was sent for.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SmtpHarness } from '../mail/smtp.ts';
import { type Browser, type TestApp } from '../support.ts';
import {
  becomeGuest, getWithCookies, parseResumeToken, PASSWORD, register, RESUME_COOKIE, sessionCookieOf, sessionSignsIn, SESSION_COOKIE,
} from '../visitors.ts';
import { APP_URL, followLink, mailedLink, startMailApp, type MailApp } from './mail-links.ts';

let mail: MailApp;
let app: TestApp;
let smtp: SmtpHarness;
beforeEach(async () => { mail = await startMailApp(); ({ app, smtp } = mail); });
afterEach(async () => { await mail.close(); });

/** A guest with a note and a cart line; returns its id. */
async function busyGuest(browser: Browser): Promise<string> {
  const id = await becomeGuest(browser);
  await browser.submit('/try', { action: 'add-note', body: 'pick up on the laptop' });
  await browser.submit('/products/candle', { productId: 'candle', quantity: '3' });
  return id;
}

async function askForResume(browser: Browser, email = 'me@example.com') {
  return browser.submit('/account', { action: 'guest-resume', email });
}

async function resumeLink(browser: Browser, email = 'me@example.com') {
  await askForResume(browser, email);
  return mailedLink(smtp, email, '/resume');
}

describe('asking for a link on the guest\'s account page', () => {
  it('mails a link to /resume from APP_URL, to whatever address the guest gives, and stores none of it', async () => {
    const browser = app.browser();
    const guestId = await busyGuest(browser);
    expect((await browser.get('/account')).text).toContain('Continue on another device');
    const asked = await askForResume(browser, 'Me@Example.com');
    expect(asked.status).toBe(303);
    expect((await browser.get('/account')).text).toContain('A link is on its way to me@example.com.');
    const link = await mailedLink(smtp, 'me@example.com', '/resume');
    expect(link.mail.subject).toBe('Continue your guestkit shop visit on another device');
    expect(link.url.startsWith(`${APP_URL}/resume?token=`)).toBe(true);
    expect(await app.sql('SELECT purpose, account_id FROM account_tokens')).toEqual([{ purpose: 'guest_resume', account_id: guestId }]);
    expect(await app.sql('SELECT email FROM users WHERE id = ?', guestId)).toEqual([{ email: expect.stringMatching(/@guest\.invalid$/) }]);
  });

  it('answers 422 next to the field for something that is not an address', async () => {
    const browser = app.browser();
    await busyGuest(browser);
    const refused = await askForResume(browser, 'me at example');
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('<p class="field-error" id="resume-email-error">Enter a valid email address, like name@example.com.</p>');
  });

  it('is not offered to a registered account', async () => {
    const browser = app.browser();
    await register(browser, 'ada@example.com');
    expect((await browser.get('/account')).text).not.toContain('Continue on another device');
  });
});

describe('following the link on another device', () => {
  it('brings the same guest there, with its cart and notes, a session and a resume cookie of its own', async () => {
    const laptop = app.browser();
    const guestId = await busyGuest(laptop);
    const link = await resumeLink(laptop);
    const phone = app.browser();
    const opened = await phone.get(link.path);
    expect(opened.status).toBe(200);
    expect(opened.text).toContain('Carry on here with the cart, orders and notes of your guest visit.');
    expect(phone.cookie(RESUME_COOKIE)).toBeUndefined(); // opening it moved nothing

    expect((await followLink(phone, link)).status).toBe(303);
    expect(parseResumeToken(phone.cookie(RESUME_COOKIE)!).id).toBe(guestId);
    expect((await phone.get('/try')).text).toContain('pick up on the laptop');
    expect((await phone.get('/cart')).text).toContain('Cedar Candle');
    const events = await app.sql<{ type: string }>(`SELECT type FROM auth_events WHERE record_id = ? ORDER BY id`, guestId);
    expect(events.map((event) => event.type)).toContain('link_sign_in');
  });

  it('lets go of the guest on the old device: its session and its resume cookie sign nobody in', async () => {
    const laptop = app.browser();
    await busyGuest(laptop);
    const laptopSession = sessionCookieOf(laptop);
    const laptopResume = laptop.cookie(RESUME_COOKIE)!;
    const link = await resumeLink(laptop);
    await followLink(app.browser(), link);
    expect(await sessionSignsIn(app, laptopSession)).toBe(false);
    const resumed = await getWithCookies(app, '/account', { [RESUME_COOKIE]: laptopResume });
    expect(resumed.status).toBe(302);
  });

  it('merges a guest already on the new device into the one it brings back', async () => {
    const laptop = app.browser();
    const guestId = await busyGuest(laptop);
    const link = await resumeLink(laptop);
    const phone = app.browser();
    const phoneGuest = await becomeGuest(phone);
    await phone.submit('/products/tea-tin', { productId: 'tea-tin', quantity: '1' });
    expect((await followLink(phone, link)).status).toBe(303);
    expect(await app.sql('SELECT product_id, quantity FROM cart_items WHERE account_id = ? ORDER BY product_id', guestId))
      .toEqual([{ product_id: 'candle', quantity: 3 }, { product_id: 'tea-tin', quantity: 1 }]);
    expect(await app.sql('SELECT id FROM accounts WHERE id = ?', phoneGuest)).toEqual([]);
  });

  it('asks a registered visitor to sign out first (409), and moves nothing', async () => {
    const laptop = app.browser();
    const guestId = await busyGuest(laptop);
    const link = await resumeLink(laptop);
    const member = app.browser();
    await register(member, 'ada@example.com');
    const page = await member.get(link.path);
    expect(page.text).toContain('Sign out first to continue as your guest.');
    const posted = await member.post('/resume', { _csrf: /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!, token: link.token });
    expect(posted.status).toBe(409);
    expect(await sessionSignsIn(app, sessionCookieOf(laptop))).toBe(true);
    expect(await app.sql('SELECT used_at FROM account_tokens WHERE account_id = ?', guestId)).toEqual([{ used_at: null }]);
  });
});

describe('a resume link that cannot be used: a readable 400, and the guest stays where it was', () => {
  async function expectRefused(path: string, heading: string, laptop: Browser) {
    const phone = app.browser();
    const page = await phone.get(path);
    expect(page.status).toBe(400);
    expect(page.text).toContain(`<h1>${heading}</h1>`);
    expect(page.text).toContain('href="/account#another-device"');
    expect(phone.cookie(RESUME_COOKIE)).toBeUndefined();
    return laptop;
  }

  it('used already', async () => {
    const laptop = app.browser();
    await busyGuest(laptop);
    const link = await resumeLink(laptop);
    await followLink(app.browser(), link);
    await expectRefused(link.path, 'This link has been used', laptop);
  });

  it('expired after a day, or garbled', async () => {
    const laptop = app.browser();
    await busyGuest(laptop);
    const link = await resumeLink(laptop);
    await expectRefused(link.path.replace('token=', 'token=x'), 'This link does not work', laptop);
    await app.sql('UPDATE account_tokens SET expires_at = ?', Date.now() - 1);
    await expectRefused(link.path, 'This link has expired', laptop);
    expect(await sessionSignsIn(app, sessionCookieOf(laptop))).toBe(true);
  });

  it('once the guest was forgotten ("sign out and forget this guest")', async () => {
    const laptop = app.browser();
    await busyGuest(laptop);
    const link = await resumeLink(laptop);
    await laptop.submit('/logout', { forget: 'yes' });
    await expectRefused(link.path, 'This link does not work', laptop);
  });

  it('once the guest saved its account: the link never signs in to a registered account', async () => {
    const laptop = app.browser();
    await busyGuest(laptop);
    const link = await resumeLink(laptop);
    await laptop.submit('/account', { action: 'convert-guest', email: 'grace@example.com', password: PASSWORD });
    await expectRefused(link.path, 'This link does not work', laptop);
  });

  it('a sign-in link\'s token: another purpose', async () => {
    await register(app.browser(), 'ada@example.com');
    await app.browser().submit('/sign-in-link', { email: 'ada@example.com' });
    const signIn = await mailedLink(smtp, 'ada@example.com', '/sign-in-link');
    const phone = app.browser();
    const page = await phone.get(`/resume?token=${signIn.token}`);
    expect(page.status).toBe(400);
    expect(phone.cookie(SESSION_COOKIE)).toBeUndefined();
  });
});
