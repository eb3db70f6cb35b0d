/**
 * What every form that mails a link shares: a rate limit per client address and per recipient
 * (MAIL_RATE_LIMIT), counted alike for addresses with and without an account, and CSRF.
 *
 * The attack each limit stops: a script posting "forgot your password?" for one victim's
 * address from many addresses (a mail bomb), or for many addresses from one (spam through us).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { csrfTokenIn, type TestApp } from '../support.ts';
import { becomeGuest, register } from '../visitors.ts';
import { queuedRecipients, startMailApp, type MailApp } from './mail-links.ts';

let mail: MailApp;
let app: TestApp;
afterEach(async () => { await mail.close(); });

async function start(env: Record<string, string> = {}) {
  mail = await startMailApp({ MAIL_RATE_LIMIT: '2', TRUST_PROXY: 'loopback', ...env });
  app = mail.app;
}

/** Submits a form as a new visitor whose requests come from `ip` (through the trusted proxy). */
async function submitFrom(ip: string, path: string, fields: Record<string, string>) {
  const browser = app.browser();
  const page = await browser.get(path).set('X-Forwarded-For', ip);
  return browser.post(path, { _csrf: csrfTokenIn(page.text)!, ...fields }).set('X-Forwarded-For', ip);
}

function expectLimited(response: { status: number; headers: Record<string, string>; text: string }, message: string) {
  expect(response.status).toBe(429);
  expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(response.text).toContain(message);
}

const FROM_YOUR_NETWORK = 'Too many attempts from your network. Please wait a minute and try again.';
const TO_THIS_ADDRESS = 'We just sent several emails to this address. Please wait a minute and try again.';

describe('MAIL_RATE_LIMIT=2 a minute', () => {
  for (const path of ['/forgot-password', '/sign-in-link', '/verify-email']) {
    it(`${path}: the third request from one client address answers 429, whatever the addresses; another client is not held up`, async () => {
      await start();
      await register(app.browser(), 'ada@example.com');
      for (const email of ['ada@example.com', 'nobody@example.com']) {
        expect((await submitFrom('203.0.113.7', path, { email })).status).toBe(200);
      }
      expectLimited(await submitFrom('203.0.113.7', path, { email: 'third@example.com' }), FROM_YOUR_NETWORK);
      expect((await submitFrom('198.51.100.9', path, { email: 'third@example.com' })).status).toBe(200);
    });
  }

  it('the third request for one recipient, from anywhere, answers 429 next to the field, with or without an account', async () => {
    await start();
    await register(app.browser(), 'ada@example.com');
    for (const email of ['ada@example.com', 'nobody@example.com']) {
      expect((await submitFrom('203.0.113.1', '/forgot-password', { email })).status).toBe(200);
      expect((await submitFrom('203.0.113.2', '/sign-in-link', { email: email.toUpperCase() })).status).toBe(200);
      const third = await submitFrom('203.0.113.3', '/forgot-password', { email });
      expectLimited(third, TO_THIS_ADDRESS);
      expect(third.text).toContain('id="email-error"');
    }
    // The registration's verification link, then one reset and one sign-in link for Ada: the
    // refused requests queued nothing, and nothing ever went to the address with no account.
    expect(await queuedRecipients(app)).toEqual(['ada@example.com', 'ada@example.com', 'ada@example.com']);
  });

  it('limits a signed-in account sending its own verification link again', async () => {
    await start();
    const browser = app.browser();
    await register(browser, 'ada@example.com');
    for (let i = 0; i < 2; i++) expect((await browser.submit('/account', { action: 'resend-verification' })).status).toBe(303);
    const third = await browser.submit('/account', { action: 'resend-verification' });
    expectLimited(third, FROM_YOUR_NETWORK);
  });

  it('limits guests mailing resume links, per client address and per recipient', async () => {
    await start();
    const guests = ['203.0.113.4', '203.0.113.5'].map((ip) => ({ ip, browser: app.browser() }));
    for (const { ip, browser } of guests) await browser.get('/try').set('X-Forwarded-For', ip);
    const ask = async ({ ip, browser }: (typeof guests)[number], email: string) => {
      const page = await browser.get('/account').set('X-Forwarded-For', ip);
      return browser.post('/account', { _csrf: csrfTokenIn(page.text)!, action: 'guest-resume', email }).set('X-Forwarded-For', ip);
    };
    expect((await ask(guests[0]!, 'me@example.com')).status).toBe(303);
    expect((await ask(guests[0]!, 'two@example.com')).status).toBe(303);
    expectLimited(await ask(guests[0]!, 'three@example.com'), FROM_YOUR_NETWORK);
    expect((await ask(guests[1]!, 'me@example.com')).status).toBe(303);
    expectLimited(await ask(guests[1]!, 'me@example.com'), TO_THIS_ADDRESS);
  });
});

describe('CSRF on every mail form', () => {
  // <form action="https://shop.example/forgot-password" method="post"><input name="email" value="victim@…">
  it('refuses each of them without the form\'s token (403), and queues no mail', async () => {
    await start({ MAIL_RATE_LIMIT: '0' });
    await register(app.browser(), 'ada@example.com');
    const guest = app.browser();
    await becomeGuest(guest);
    const before = await queuedRecipients(app);
    for (const path of ['/forgot-password', '/sign-in-link', '/verify-email']) {
      expect((await app.browser().post(path, { email: 'ada@example.com' })).status, path).toBe(403);
    }
    expect((await guest.post('/account', { action: 'guest-resume', email: 'attacker@example.com' })).status).toBe(403);
    expect(await queuedRecipients(app)).toEqual(before);
  });
});
