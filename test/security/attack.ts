/**
 * Tools for the adversarial tests: victims in a given state, snapshots of everything the app
 * stores (to prove a refused request changed nothing), and raw HTTP for requests a browser or
 * `fetch` would normalise away (`/../`, bad UTF-8, duplicate fields).
 */
import { type Browser, csrfTokenIn, type TestApp } from '../support.ts';

export const PASSWORD = 'correct horse battery';

let sequence = 0;
/** An email no other test in this process uses. */
export function uniqueEmail(label = 'user'): string {
  return `${label}-${process.pid}-${++sequence}@example.com`;
}

/** Answers 303 or throws with what the page said instead: setup steps must not fail quietly. */
export function expectRedirect(response: { status: number; text?: string }, what: string): void {
  if (response.status !== 303) throw new Error(`${what} answered ${response.status}:\n${response.text?.slice(0, 500)}`);
}

/** A browser signed in to a new registered account, its welcome flash already shown. */
export async function registeredBrowser(app: TestApp, email = uniqueEmail(), password = PASSWORD): Promise<Browser> {
  const browser = app.browser();
  expectRedirect(await browser.submit('/register', { email, password }), 'registration');
  await browser.get('/account');
  return browser;
}

/** A browser signed in as a new guest (seed 003's try-before-you-buy page), settled. */
export async function guestBrowser(app: TestApp): Promise<Browser> {
  const browser = app.browser();
  await browser.get('/try');
  await browser.get('/try');
  return browser;
}

/** The CSRF token the page at `path` gives this browser. */
export async function tokenFor(browser: Browser, path = '/login'): Promise<string> {
  const page = await browser.get(path);
  const token = csrfTokenIn(page.text);
  if (!token) throw new Error(`no CSRF token on ${path} (status ${page.status})`);
  return token;
}

export interface Snapshot { [table: string]: string[] }

/**
 * Every row of every table in app.db, and every session's contents without its cookie and
 * `savedAt` (expiry bookkeeping that slides by design). Two equal snapshots mean nothing was changed.
 */
export function snapshot(app: TestApp): Snapshot {
  const { db } = app;
  const { sessionDb } = app;
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all() as string[];
  const result: Snapshot = {};
  for (const table of tables) {
    result[table] = db.prepare(`SELECT * FROM "${table}"`).all().map((row) => JSON.stringify(row)).sort();
  }
  const sessions = sessionDb.prepare('SELECT sid, sess FROM sessions').all() as Array<{ sid: string; sess: string }>;
  result['(sessions)'] = sessions.map(({ sid, sess }) => {
    const { cookie: _sliding, savedAt: _slidAt, ...contents } = JSON.parse(sess) as Record<string, unknown>;
    return JSON.stringify([sid, contents]);
  }).sort();
  return result;
}

/** `Cookie` header value carrying the named cookies this browser holds. */
export function cookieHeader(browser: Browser, names = ['gk.sid', 'gk.resume']): string {
  return names.flatMap((name) => {
    const value = browser.cookie(name);
    return value === undefined ? [] : [`${name}=${value}`];
  }).join('; ');
}

/** The account this browser's session is signed in to, as the account page shows it. */
export async function signedInAs(browser: Browser): Promise<'guest' | string | null> {
  const page = await browser.get('/account');
  if (page.status === 302 || page.status === 303) return null;
  if (/You are a <strong>guest<\/strong>/.test(page.text)) return 'guest';
  return /Signed in as <strong>([^<]+)<\/strong>/.exec(page.text)?.[1] ?? null;
}

/** HTML-escaped as Eta's `<%= %>` escapes (the five characters HTML gives meaning to). */
export function escaped(text: string): string {
  const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  return text.replace(/[&<>"']/g, (character) => entities[character]!);
}
