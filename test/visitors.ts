/**
 * Visitors for the specs: registering, becoming a guest, the fixture auth pages, reading what a page
 * printed, the cookies a response set, and probing the app with a chosen set of cookies.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { countOf, firstRow } from './rows.ts';
import { BROWSER_UA, startApp, type Browser, type TestApp } from './support.ts';

export const SESSION_COOKIE = 'gk.sid';
export const RESUME_COOKIE = 'gk.resume';
export const DEVICE_COOKIE = 'gk.device';
export const PASSWORD = 'correct horse battery';

/** Pages that call the helpers directly (signInAnonymously with options, convertGuest, signUp...). */
export const AUTH_PAGES = fileURLToPath(new URL('./fixtures/auth-pages', import.meta.url));

export function startFixtureApp(env: Record<string, string> = {}): Promise<TestApp> {
  return startApp(env, { pagesDir: AUTH_PAGES });
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/** The text of the element with this id, as the page meant it (HTML entities decoded). */
export function textOf(html: string, id: string): string {
  const match = new RegExp(`<(\\w+) id="${id}"[^>]*>([\\s\\S]*?)</\\1>`).exec(html);
  if (!match) throw new Error(`no element #${id} in:\n${html}`);
  return match[2]!.replace(/&(amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity]!);
}

export function jsonOf<T = Record<string, unknown>>(html: string, id: string): T {
  return JSON.parse(textOf(html, id)) as T;
}

/** The last Set-Cookie line a response sent for `name` (a browser applies them in order), if any. */
export function setCookieLine(response: { headers: IncomingHttpHeaders }, name: string): string | undefined {
  const lines = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
  return lines.filter((line) => line.startsWith(`${name}=`)).at(-1);
}

/** Whether the response told the browser to delete the cookie. */
export function clearsCookie(response: { headers: IncomingHttpHeaders }, name: string): boolean {
  const line = setCookieLine(response, name);
  return !!line && line.startsWith(`${name}=;`) && /Expires=Thu, 01 Jan 1970/.test(line);
}

/** A GET from a browser holding exactly these cookies (no jar). */
export function getWithCookies(app: TestApp, url: string, cookies: Record<string, string>) {
  const header = Object.entries(cookies).map(([name, value]) => `${name}=${value}`).join('; ');
  return request(app.server).get(url).set('User-Agent', BROWSER_UA).set('Cookie', header);
}

/**
 * Whether this session cookie alone still signs someone in, on the shop's pages: `/account`
 * answers 200 to a signed-in visitor and redirects everyone else to sign in.
 */
export async function sessionSignsIn(app: TestApp, sessionCookie: string): Promise<boolean> {
  const response = await getWithCookies(app, '/account', { [SESSION_COOKIE]: sessionCookie });
  if (response.status !== 200 && response.status !== 302) throw new Error(`/account answered ${response.status}`);
  return response.status === 200;
}

export function sessionCookieOf(browser: Browser): string {
  const value = browser.cookie(SESSION_COOKIE);
  if (!value) throw new Error('the browser holds no session cookie');
  return value;
}

/** A resume token is `<collection>.<id>.<secret>`. */
export function parseResumeToken(token: string): { collection: string; id: string; secret: string } {
  const [collection, id, secret] = decodeURIComponent(token).split('.');
  return { collection: collection!, id: id!, secret: secret! };
}

/** Opens /try as a new visitor (seed 003's try-before-you-buy: a `users` guest); returns the guest's id. */
export async function becomeGuest(browser: Browser): Promise<string> {
  const response = await browser.get('/try');
  if (response.status !== 302) throw new Error(`/try answered ${response.status} to a new visitor`);
  const token = browser.cookie(RESUME_COOKIE);
  if (!token) throw new Error('no resume cookie after /try');
  return parseResumeToken(token).id;
}

/** Registers an account at /register from this browser (which is then signed in to it). */
export async function register(browser: Browser, email: string, password = PASSWORD) {
  const response = await browser.submit('/register', { email, password });
  if (response.status !== 303) throw new Error(`/register answered ${response.status}`);
  return response;
}

export interface AccountRow {
  id: string; email: string; username: string; password_hash: string; is_anonymous: number;
  created_at: number; last_active_at: number; claimed_at: number | null; metadata: string;
}

export function accountRow(app: TestApp, collection: string, id: string): Promise<AccountRow | undefined> {
  return firstRow<AccountRow>(app, `SELECT * FROM ${collection} WHERE id = ?`, id);
}

export function countRows(app: TestApp, table: string): Promise<number> {
  return countOf(app, table);
}

export interface AuthEvent { type: string; record_id: string | null; collection: string | null; created_at: number; detail: string | null }

export function eventsOf(app: TestApp, type: string): Promise<AuthEvent[]> {
  return app.sql<AuthEvent>('SELECT type, record_id, collection, created_at, detail FROM auth_events WHERE type = ? ORDER BY id', type);
}
