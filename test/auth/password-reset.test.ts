/**
 * "Forgot your password?" end to end: the form, the mail as a real SMTP server receives it, and
 * the link opened in a fresh browser. The answer never tells whether an account has the
 * address; the link works once, for an hour, and only while the password it replaces is the
 * account's; using it signs out every device and signs this browser in with a new session id.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { csrfTokenIn, guestWithCart, type Browser, type TestApp } from '../support.ts';
import type { SmtpHarness } from '../mail/smtp.ts';
import { PASSWORD, parseResumeToken, register, RESUME_COOKIE, sessionCookieOf, sessionSignsIn } from '../visitors.ts';
import { APP_URL, followLink, mailedLink, queuedRecipients, startMailApp, withoutCsrf, type MailApp } from './mail-links.ts';

const NEW_PASSWORD = 'a brand new passphrase';

let mail: MailApp;
let app: TestApp;
let smtp: SmtpHarness;
beforeEach(async () => { mail = await startMailApp(); ({ app, smtp } = mail); });
afterEach(async () => { await mail.close(); });

async function askForReset(email: string, browser = app.browser()) {
  return browser.submit('/forgot-password', { email });
}

/** An account registered from a browser of its own; returns that (signed-in) browser. */
async function account(email = 'ada@example.com'): Promise<Browser> {
  const browser = app.browser();
  await register(browser, email);
  return browser;
}

async function signsInWith(email: string, password: string): Promise<boolean> {
  const response = await app.browser().submit('/login', { email, password });
  return response.status === 303;
}

const mainOf = (html: string) => /<main[\s\S]*<\/main>/.exec(html)![0];

describe('asking for a reset link', () => {
  it('mails the account a link to /reset-password built from APP_URL, with no password in it', async () => {
    await account();
    const asked = await askForReset('  Ada@Example.com ');
    expect(asked.status).toBe(200);
    expect(asked.text).toContain('If an account uses <strong>ada@example.com</strong>, a link to set a new password is on its way there.');

    const link = await mailedLink(smtp, 'ada@example.com', '/reset-password');
    expect(link.mail.subject).toBe('Set a new password for guestkit shop');
    expect(link.url).toMatch(new RegExp(`^${APP_URL}/reset-password\\?token=[A-Za-z0-9_-]{43}$`));
    expect(link.mail.html).toContain(`href="${link.url}"`);
    expect(link.mail.text).toContain('1 hour');
    for (const part of [link.mail.text, link.mail.html]) expect(part).not.toContain(PASSWORD);
  });

  it('stores only a SHA-256 of the link\'s token, bound to the account and the reset purpose', async () => {
    await account();
    await askForReset('ada@example.com');
    const link = await mailedLink(smtp, 'ada@example.com', '/reset-password');
    const rows = await app.sql<{ hash: string; purpose: string; account_id: string }>(
      `SELECT hash, purpose, account_id FROM account_tokens WHERE purpose <> 'email_verification'`);
    const [user] = await app.sql<{ id: string }>('SELECT id FROM users WHERE email = ?', 'ada@example.com');
    expect(rows).toEqual([{ hash: expect.not.stringContaining(link.token), purpose: 'password_reset', account_id: user!.id }]);
    expect(rows[0]!.hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('answers an address with no account with the very same page, and mails nothing there', async () => {
    await account();
    const known = await askForReset('ada@example.com');
    const unknown = await askForReset('nobody@example.com');
    expect(unknown.status).toBe(known.status);
    expect(withoutCsrf(mainOf(unknown.text)).replace('nobody@example.com', 'ada@example.com')).toBe(withoutCsrf(mainOf(known.text)));
    // The registration's verification mail, and the one reset link.
    expect(await queuedRecipients(app)).toEqual(['ada@example.com', 'ada@example.com']);
  });

  it('mails nothing for a guest: guest addresses are not accounts', async () => {
    const guest = app.browser();
    await guest.get('/try');
    const [row] = await app.sql<{ email: string }>('SELECT email FROM users');
    expect((await askForReset(row!.email)).status).toBe(422); // .invalid addresses are no addresses
    expect(await queuedRecipients(app)).toEqual([]);
  });

  it('answers 422 with the message next to the field for something that is not an address', async () => {
    const response = await askForReset('not an address');
    expect(response.status).toBe(422);
    expect(response.text).toContain('<p class="field-error" id="email-error">Enter a valid email address, like name@example.com.</p>');
    expect(response.text).toContain('value="not an address"');
  });

  it('is linked from the sign-in page as "Forgot your password?"', async () => {
    expect((await app.browser().get('/login')).text).toContain('<a href="/forgot-password">Forgot your password?</a>');
  });
});

describe('following the link', () => {
  it('shows the form to a fresh browser without using the link (a mail scanner may open it first)', async () => {
    await account();
    await askForReset('ada@example.com');
    const link = await mailedLink(smtp, 'ada@example.com', '/reset-password');
    for (let i = 0; i < 2; i++) {
      const page = await app.browser().get(link.path);
      expect(page.status).toBe(200);
      expect(page.text).toContain('For <strong>ada@example.com</strong>.');
      expect(page.text).toContain('name="confirmation"');
    }
    expect(await app.sql(`SELECT used_at FROM account_tokens WHERE purpose = 'password_reset'`)).toEqual([{ used_at: null }]);
  });

  it('sets the new password, signs this browser in, records password_reset, and the old password stops working', async () => {
    await account();
    await askForReset('ada@example.com');
    const link = await mailedLink(smtp, 'ada@example.com', '/reset-password');
    const fresh = app.browser();
    const done = await followLink(fresh, link, { password: NEW_PASSWORD, confirmation: NEW_PASSWORD });
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/account');
    const page = await fresh.get('/account');
    expect(page.text).toContain('Signed in as <strong>ada@example.com</strong>');
    expect(page.text).toContain('Your new password is set, and you are signed in.');
    expect(await signsInWith('ada@example.com', PASSWORD)).toBe(false);
    expect(await signsInWith('ada@example.com', NEW_PASSWORD)).toBe(true);
    const events = await app.sql<{ type: string }>(`SELECT type FROM auth_events WHERE type IN ('password_reset', 'email_verified') ORDER BY id`);
    expect(events.map((event) => event.type)).toEqual(['password_reset', 'email_verified']);
  });

  it('ends every session of the account, and gives this browser a new session id', async () => {
    const owner = await account();
    const ownerSession = sessionCookieOf(owner);
    const resetter = app.browser();
    await resetter.get('/try'); // a guest here: a session of its own
    const before = sessionCookieOf(resetter);
    await askForReset('ada@example.com', resetter);
    const link = await mailedLink(smtp, 'ada@example.com', '/reset-password');
    await followLink(resetter, link, { password: NEW_PASSWORD, confirmation: NEW_PASSWORD });
    expect(await sessionSignsIn(app, ownerSession)).toBe(false);
    expect(sessionCookieOf(resetter)).not.toBe(before);
    expect(await sessionSignsIn(app, sessionCookieOf(resetter))).toBe(true);
    expect(await sessionSignsIn(app, before)).toBe(false);
  });

  it('brings a guest\'s cart along, as signing in with a password does', async () => {
    await account();
    const guest = app.browser();
    await guestWithCart(guest, [['candle', 2]]);
    const guestId = parseResumeToken(guest.cookie(RESUME_COOKIE)!).id;
    await askForReset('ada@example.com', guest);
    const link = await mailedLink(smtp, 'ada@example.com', '/reset-password');
    expect((await followLink(guest, link, { password: NEW_PASSWORD, confirmation: NEW_PASSWORD })).status).toBe(303);
    const [user] = await app.sql<{ id: string }>('SELECT id FROM users WHERE email = ?', 'ada@example.com');
    expect(await app.sql('SELECT product_id, quantity FROM cart_items WHERE account_id = ?', user!.id)).toEqual([{ product_id: 'candle', quantity: 2 }]);
    expect(await app.sql('SELECT id FROM accounts WHERE id = ?', guestId)).toEqual([]);
  });

  it('shows every problem of the new password at once (422), and the link still works after', async () => {
    await account();
    await askForReset('ada@example.com');
    const link = await mailedLink(smtp, 'ada@example.com', '/reset-password');
    const browser = app.browser();
    const refused = await followLink(browser, link, { password: 'short', confirmation: 'different' });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('<p class="field-error" id="password-error">Use at least 8 characters for your password.</p>');
    expect(refused.text).toContain('<p class="field-error" id="confirmation-error">The two passwords are not the same.</p>');
    expect(await signsInWith('ada@example.com', PASSWORD)).toBe(true);
    expect((await followLink(browser, link, { password: NEW_PASSWORD, confirmation: NEW_PASSWORD })).status).toBe(303);
  });
});

describe('a link that cannot be used: a readable 400 offering a new one, and nothing changes', () => {
  async function resetLink() {
    await account();
    await askForReset('ada@example.com');
    return mailedLink(smtp, 'ada@example.com', '/reset-password');
  }

  async function expectRefused(path: string, heading: string, fields?: Record<string, string>) {
    const browser = app.browser();
    const page = fields ? await browser.post('/reset-password', fields) : await browser.get(path);
    expect(page.status).toBe(400);
    expect(page.text).toContain(`<h1>${heading}</h1>`);
    expect(page.text).toContain('<a class="button" href="/forgot-password">Send me a new link</a>');
    expect(await signsInWith('ada@example.com', PASSWORD)).toBe(true);
  }

  it('used already: "This link has been used", and a second use sets nothing', async () => {
    const link = await resetLink();
    await followLink(app.browser(), link, { password: NEW_PASSWORD, confirmation: NEW_PASSWORD });
    const page = await app.browser().get(link.path);
    expect(page.status).toBe(400);
    expect(page.text).toContain('<h1>This link has been used</h1>');
    expect(await signsInWith('ada@example.com', NEW_PASSWORD)).toBe(true);
  });

  it('expired (an hour after it was sent): "This link has expired"', async () => {
    const link = await resetLink();
    await app.sql('UPDATE account_tokens SET expires_at = ?', Date.now() - 1);
    await expectRefused(link.path, 'This link has expired');
  });

  it('garbled, cut short, or missing its token: "This link does not work"', async () => {
    const link = await resetLink();
    for (const path of [`${link.path.slice(0, -1)}x`, link.path.slice(0, -5), '/reset-password?token=', '/reset-password', '/reset-password?token=%00%27']) {
      await expectRefused(path, 'This link does not work');
    }
  });

  it('after the password changed: the link is bound to the password it replaces', async () => {
    const owner = await account();
    await askForReset('ada@example.com');
    const link = await mailedLink(smtp, 'ada@example.com', '/reset-password');
    await owner.submit('/account', { action: 'change-password', currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    const page = await app.browser().get(link.path);
    expect(page.status).toBe(400);
    expect(page.text).toContain('<h1>This link does not work</h1>');
    expect(await signsInWith('ada@example.com', NEW_PASSWORD)).toBe(true);
  });

  it('a sign-in link used as a reset link: another purpose is no reset token', async () => {
    await account();
    await app.browser().submit('/sign-in-link', { email: 'ada@example.com' });
    const signIn = await mailedLink(smtp, 'ada@example.com', '/sign-in-link');
    await expectRefused(`/reset-password?token=${signIn.token}`, 'This link does not work');
    // Posting it straight to the form changes nothing either, and the sign-in link still works.
    const browser = app.browser();
    const page = await browser.get('/forgot-password');
    const posted = await browser.post('/reset-password', { _csrf: csrfTokenIn(page.text)!, token: signIn.token, password: NEW_PASSWORD, confirmation: NEW_PASSWORD });
    expect(posted.status).toBe(400);
    expect(await signsInWith('ada@example.com', PASSWORD)).toBe(true);
    expect((await followLink(app.browser(), signIn)).status).toBe(303);
  });

  it('two uses at the same moment (two tabs): one sets its password, the other gets the 400', async () => {
    const link = await resetLink();
    const tabs = [app.browser(), app.browser()];
    const pages = await Promise.all(tabs.map((tab) => tab.get(link.path)));
    const answers = await Promise.all(tabs.map((tab, i) => tab.post('/reset-password', {
      _csrf: csrfTokenIn(pages[i]!.text)!, token: link.token, password: `${NEW_PASSWORD} ${i}`, confirmation: `${NEW_PASSWORD} ${i}`,
    })));
    expect(answers.map((answer) => answer.status).sort()).toEqual([303, 400]);
    const winner = answers.findIndex((answer) => answer.status === 303);
    expect(await signsInWith('ada@example.com', `${NEW_PASSWORD} ${winner}`)).toBe(true);
    expect(await app.sql(`SELECT type FROM auth_events WHERE type = 'password_reset'`)).toHaveLength(1);
  });
});

describe('the forms need their CSRF token', () => {
  it('refuses "forgot your password?" and the new-password form without it (403), mailing and changing nothing', async () => {
    await account();
    expect((await app.browser().post('/forgot-password', { email: 'ada@example.com' })).status).toBe(403);
    await askForReset('ada@example.com');
    const link = await mailedLink(smtp, 'ada@example.com', '/reset-password');
    const forged = await app.browser().post('/reset-password', { token: link.token, password: NEW_PASSWORD, confirmation: NEW_PASSWORD });
    expect(forged.status).toBe(403);
    expect(await signsInWith('ada@example.com', PASSWORD)).toBe(true);
    expect(await queuedRecipients(app)).toEqual(['ada@example.com', 'ada@example.com']);
  });
});
