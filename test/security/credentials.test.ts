/**
 * Credentials: a guest's secret is full-entropy and useless at the sign-in form; passwords are
 * refused outside 8 code points to 72 UTF-8 bytes (bcrypt's limit) and never silently
 * truncated; and the sign-in form does not tell an attacker which emails have accounts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { column, countOf, firstRow, scalar } from '../rows.ts';
import { BROWSER_UA, type Browser, startApp, type TestApp } from '../support.ts';
import { expectRedirect, guestBrowser, PASSWORD, registeredBrowser, signedInAs, uniqueEmail } from './attack.ts';

let app: TestApp;
beforeAll(async () => { app = await startApp(); });
afterAll(async () => { await app.close(); });

/** A resume cookie is `<collection>.<id>.<secret>`. */
function resumeParts(value: string): { collection: string; id: string; secret: string } {
  const [collection, id, secret] = decodeURIComponent(value).split('.');
  return { collection: collection!, id: id!, secret: secret! };
}

async function newGuestResumeCookie(): Promise<string> {
  const response = await fetch(`${app.url}/try`, { redirect: 'manual', headers: { 'user-agent': BROWSER_UA } });
  const cookie = response.headers.getSetCookie().find((header) => header.startsWith('gk.resume='));
  if (!cookie) throw new Error(`no resume cookie (status ${response.status})`);
  return cookie.slice('gk.resume='.length).split(';')[0]!;
}

describe('guest credentials', () => {
  let secrets: Buffer[];
  beforeAll(async () => {
    const cookies: string[] = [];
    for (let i = 0; i < 100; i++) cookies.push(await newGuestResumeCookie());
    secrets = cookies.map((cookie) => Buffer.from(resumeParts(cookie).secret, 'base64url'));
  });

  it('are at least 256 random bits each', () => {
    for (const secret of secrets) expect(secret.length * 8).toBeGreaterThanOrEqual(256);
    // Over 100 × 256 bits, each bit is set about half the time (a constant or counter-like
    // secret would be far off); 0.47–0.53 is more than six standard deviations wide.
    const bits = secrets.flatMap((secret) => [...secret].flatMap((byte) => [...byte.toString(2).padStart(8, '0')]));
    const ones = bits.filter((bit) => bit === '1').length / bits.length;
    expect(ones).toBeGreaterThan(0.47);
    expect(ones).toBeLessThan(0.53);
    // 3,200 random bytes cover nearly all 256 values (each is missing with odds of about 1 in 270,000).
    const distinctBytes = new Set(secrets.flatMap((secret) => [...secret]));
    expect(distinctBytes.size).toBeGreaterThanOrEqual(250);
  });

  it('are distinct for 100 guests, and only their hash is stored', async () => {
    expect(new Set(secrets.map((secret) => secret.toString('hex'))).size).toBe(100);
    const stored = await column<string>(app, 'SELECT password_hash FROM users WHERE is_anonymous');
    for (const secret of secrets.slice(0, 10)) {
      const encoded = secret.toString('base64url');
      expect(stored.some((hash) => hash.includes(encoded))).toBe(false);
    }
  });

  it('are refused at /login, with the guest\'s own email, as the secret, the whole token or the stored hash', async () => {
    const guest = await guestBrowser(app);
    const token = decodeURIComponent(guest.cookie('gk.resume')!);
    const { id, secret } = resumeParts(token);
    const row = (await firstRow<{ email: string; password_hash: string }>(app, 'SELECT email, password_hash FROM users WHERE id = ?', id))!;
    for (const password of [secret, token, row.password_hash, '']) {
      const attacker = app.browser();
      const response = await attacker.submit('/login', { email: row.email, password });
      expect(response.status, `password ${password.slice(0, 12)}…`).toBe(401);
      expect(await signedInAs(attacker)).toBeNull();
    }
  });

  it('cannot be registered over: a guest\'s reserved email is refused at sign-up', async () => {
    const guest = await guestBrowser(app);
    const { id } = resumeParts(guest.cookie('gk.resume')!);
    const email = (await scalar<string>(app, 'SELECT email FROM users WHERE id = ?', id))!;
    const response = await app.browser().submit('/register', { email, password: PASSWORD });
    expect(response.status).toBe(422);
    expect(await scalar(app, 'SELECT is_anonymous FROM users WHERE id = ?', id)).toBe(1);
  });
});

describe('password length rules', () => {
  const seven = 'a'.repeat(7);
  const fourEmoji = '😀😀😀😀'; // 8 UTF-16 units but 4 code points
  const seventyThree = 'b'.repeat(73);
  const nineteenEmoji = '😀'.repeat(19); // 19 code points but 76 UTF-8 bytes
  const tooShort = 'Use at least 8 characters';
  const tooLong = 'Use at most 72 bytes';
  const cases: Array<[string, string, string]> = [
    ['7 characters', seven, tooShort],
    ['4 emoji (8 UTF-16 units, 4 code points)', fourEmoji, tooShort],
    ['73 bytes', seventyThree, tooLong],
    ['19 emoji (19 code points, 76 bytes)', nineteenEmoji, tooLong],
    ['10,000 characters', 'c'.repeat(10_000), tooLong],
  ];

  for (const [what, password, message] of cases) {
    it(`refuses ${what} at registration with 422 and says why`, async () => {
      const email = uniqueEmail('short');
      const response = await app.browser().submit('/register', { email, password });
      expect(response.status).toBe(422);
      expect(response.text).toContain(message);
      expect(await countOf(app, 'users', 'email = ?', email)).toBe(0);
    });

    it(`refuses ${what} when a guest saves their account, and they stay a guest`, async () => {
      const guest = await guestBrowser(app);
      const response = await guest.submit('/account', { action: 'convert-guest', email: uniqueEmail('convert'), password });
      expect(response.status).toBe(422);
      expect(response.text).toContain(message);
      expect(await signedInAs(guest)).toBe('guest');
    });
  }

  it('refuses a too-long new password at password change, keeping the old one', async () => {
    const email = uniqueEmail('change');
    const browser = await registeredBrowser(app, email);
    const response = await browser.submit('/account', { action: 'change-password', currentPassword: PASSWORD, newPassword: seventyThree });
    expect(response.status).toBe(422);
    expect(response.text).toContain(tooLong);
    expectRedirect(await app.browser().submit('/login', { email, password: PASSWORD }), 'sign-in with the old password');
  });

  it('accepts 8 emoji (8 code points) and a password of exactly 72 bytes, and both sign in', async () => {
    for (const password of ['😀'.repeat(8), 'é'.repeat(36), 'd'.repeat(72)]) {
      const email = uniqueEmail('exact');
      expectRedirect(await app.browser().submit('/register', { email, password }), `registering with ${password.slice(0, 4)}…`);
      const browser = app.browser();
      expectRedirect(await browser.submit('/login', { email, password }), 'sign-in');
      expect(await signedInAs(browser)).toBe(email);
    }
  });
});

describe('no password is truncated', () => {
  let email: string;
  const password = 'p'.repeat(71) + 'q'; // exactly 72 bytes
  beforeAll(async () => {
    email = uniqueEmail('exact72');
    await registeredBrowser(app, email, password);
  });

  it('refuses at sign-in a password equal to the real one in its first 72 bytes, then longer', async () => {
    const response = await app.browser().submit('/login', { email, password: password + 'anything' });
    expect(response.status).toBe(401);
  });

  it('refuses at sign-in the real password missing its last byte', async () => {
    const response = await app.browser().submit('/login', { email, password: password.slice(0, 71) });
    expect(response.status).toBe(401);
  });

  it('refuses at registration a password differing from another only after byte 72', async () => {
    const response = await app.browser().submit('/register', { email: uniqueEmail('longer'), password: password + 'X' });
    expect(response.status).toBe(422);
    expect(response.text).toContain('Use at most 72 bytes');
  });

  it('counts every byte after a NUL character (bcrypt in C would stop there)', async () => {
    const withNul = 'abcdefgh\u0000secret-part';
    const nulEmail = uniqueEmail('nul');
    expectRedirect(await app.browser().submit('/register', { email: nulEmail, password: withNul }), 'registration');
    expect((await app.browser().submit('/login', { email: nulEmail, password: 'abcdefgh\u0000other-part' })).status).toBe(401);
    expect((await app.browser().submit('/login', { email: nulEmail, password: 'abcdefgh' })).status).toBe(401);
    expectRedirect(await app.browser().submit('/login', { email: nulEmail, password: withNul }), 'sign-in');
  });
});

describe('user enumeration at sign-in', () => {
  const known = uniqueEmail('known');
  const unknown = uniqueEmail('unknown');
  beforeAll(async () => { await registeredBrowser(app, known); });

  /** The page with this request's own data (CSRF token, the email typed) blanked out. */
  function comparable(html: string, email: string): string {
    return html.replace(/name="_csrf" value="[^"]*"/g, '').replaceAll(email, 'EMAIL');
  }

  it('answers an unknown email and a wrong password with the same status and the same page', async () => {
    const wrongPassword = await app.browser().submit('/login', { email: known, password: 'not the password' });
    const unknownEmail = await app.browser().submit('/login', { email: unknown, password: 'not the password' });
    expect(wrongPassword.status).toBe(401);
    expect(unknownEmail.status).toBe(401);
    expect(comparable(unknownEmail.text, unknown)).toBe(comparable(wrongPassword.text, known));
  });

  it('takes about as long for an unknown email as for a wrong password (median of 15, within 3× or 60 ms)', async () => {
    const timeLogin = async (browser: Browser, email: string, token: string) => {
      const started = performance.now();
      const response = await browser.post('/login', { _csrf: token, email, password: 'not the password' });
      expect(response.status).toBe(401);
      return performance.now() - started;
    };
    const browser = app.browser();
    const token = /name="_csrf" value="([^"]+)"/.exec((await browser.get('/login')).text)![1]!;
    await timeLogin(browser, unknown, token); // the first unknown email pays for the dummy hash
    const knownTimes: number[] = [];
    const unknownTimes: number[] = [];
    for (let i = 0; i < 15; i++) {
      knownTimes.push(await timeLogin(browser, known, token));
      unknownTimes.push(await timeLogin(browser, unknown, token));
    }
    const median = (times: number[]) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
    const [k, u] = [median(knownTimes), median(unknownTimes)];
    const close = Math.max(k, u) <= 3 * Math.min(k, u) || Math.abs(k - u) <= 60;
    expect(close, `median known ${k.toFixed(1)} ms, unknown ${u.toFixed(1)} ms`).toBe(true);
    // Both do a bcrypt comparison: an unknown email answering in a fraction of the time would show.
    expect(u).toBeGreaterThan(k / 3);
  });
});
