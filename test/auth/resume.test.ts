import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTIVITY_WRITE_INTERVAL_MS } from '../../src/auth/authenticate.ts';
import { deleteAllSessions, storedSessions, tamperSessions } from '../rows.ts';
import { startApp, type Browser, type TestApp } from '../support.ts';
import {
  accountRow, becomeGuest, clearsCookie, countRows, getWithCookies, RESUME_COOKIE, SESSION_COOKIE, setCookieLine,
} from '../visitors.ts';

const DAY_SECONDS = 86_400;

let app: TestApp;
afterEach(async () => { await app.close(); });

async function guestWithNote(browser: Browser, body: string): Promise<string> {
  const id = await becomeGuest(browser);
  const saved = await browser.submit('/try', { action: 'add-note', body });
  if (saved.status !== 303) throw new Error(`saving a note answered ${saved.status}`);
  return id;
}

async function lastActiveAt(id: string): Promise<number> {
  return (await accountRow(app, 'users', id))!.last_active_at;
}

async function setLastActiveAt(id: string, value: number): Promise<void> {
  await app.sql('UPDATE users SET last_active_at = ? WHERE id = ?', value, id);
}

describe('the resume cookie', () => {
  it('brings a guest whose session rows are gone back as the same record, from the resume cookie alone', async () => {
    app = await startApp();
    const browser = app.browser();
    const id = await guestWithNote(browser, 'remember the milk');
    await deleteAllSessions(app);

    const page = await getWithCookies(app, '/try', { [RESUME_COOKIE]: browser.cookie(RESUME_COOKIE)! });
    expect(page.status).toBe(200);
    expect(page.text).toContain('remember the milk');
    expect(page.text).toContain('You are trying this as a guest.');
    expect(setCookieLine(page, SESSION_COOKIE)).toBeDefined();
    expect(await countRows(app, 'users')).toBe(1);
    const restored = (await storedSessions(app)).map(({ sess }) => ({ id: (sess.auth as { id: string }).id }));
    expect(restored).toEqual([{ id }]);
  });

  it('is HttpOnly and SameSite=Lax and lives as long as guests are kept (30 days by default)', async () => {
    app = await startApp();
    const first = await app.browser().get('/try');
    const line = setCookieLine(first, RESUME_COOKIE)!;
    expect(line).toMatch(/; HttpOnly/);
    expect(line).toMatch(/; SameSite=Lax/);
    expect(line).toContain(`Max-Age=${30 * DAY_SECONDS};`);
  });

  it('follows GUEST_RETENTION_DAYS', async () => {
    app = await startApp({ GUEST_RETENTION_DAYS: '7' });
    const line = setCookieLine(await app.browser().get('/try'), RESUME_COOKIE)!;
    expect(line).toContain(`Max-Age=${7 * DAY_SECONDS};`);
  });

  it('signs nobody in when its secret does not match, and is cleared', async () => {
    app = await startApp();
    const browser = app.browser();
    await becomeGuest(browser);
    await deleteAllSessions(app);
    const token = decodeURIComponent(browser.cookie(RESUME_COOKIE)!);
    const forged = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const page = await getWithCookies(app, '/account', { [RESUME_COOKIE]: encodeURIComponent(forged) });
    expect(page.status).toBe(302);
    expect(clearsCookie(page, RESUME_COOKIE)).toBe(true);
  });

  it('is cleared at conversion, and no longer signs anyone in afterwards', async () => {
    app = await startApp();
    const browser = app.browser();
    await becomeGuest(browser);
    const token = browser.cookie(RESUME_COOKIE)!;
    const converted = await browser.submit('/account', { action: 'convert-guest', email: 'kept@example.com', password: 'long enough' });
    expect(converted.status).toBe(303);
    expect(clearsCookie(converted, RESUME_COOKIE)).toBe(true);
    await deleteAllSessions(app);
    const page = await getWithCookies(app, '/account', { [RESUME_COOKIE]: token });
    expect(page.status).toBe(302);
    expect(page.headers.location).toBe('/login?next=%2Faccount');
  });
});

describe('last_active_at', () => {
  let browser: Browser;
  let id: string;
  beforeEach(async () => {
    app = await startApp();
    browser = app.browser();
    id = await becomeGuest(browser);
  });

  it('is always written on the first request after the one that created the guest', async () => {
    await setLastActiveAt(id, 1);
    const before = Date.now();
    await browser.get('/try');
    expect(await lastActiveAt(id)).toBeGreaterThanOrEqual(before);
  });

  it('is written at most once per 5 minutes per guest', async () => {
    await browser.get('/try');
    await setLastActiveAt(id, 1);
    await browser.get('/try');
    await browser.get('/cart');
    expect(await lastActiveAt(id)).toBe(1);
  });

  it('is written again once 5 minutes have passed, and the resume cookie\'s expiry slides with it', async () => {
    await browser.get('/try');
    await setLastActiveAt(id, 1);
    // Five minutes and a second ago, as far as this guest's session knows.
    await tamperSessions(app, (sess) => { sess.activeAt = (sess.activeAt as number) - (ACTIVITY_WRITE_INTERVAL_MS + 1_000); });
    const before = Date.now();
    const page = await browser.get('/try');
    expect(await lastActiveAt(id)).toBeGreaterThanOrEqual(before);
    expect(setCookieLine(page, RESUME_COOKIE)).toContain(`Max-Age=${30 * DAY_SECONDS};`);
  });
});
