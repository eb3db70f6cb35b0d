/**
 * Tools for the adversarial tests: victims in a given state, snapshots of everything the app
 * stores (to prove a refused request changed nothing), and raw HTTP for requests a browser or
 * `fetch` would normalise away (`/../`, bad UTF-8, duplicate fields).
 */
import { storedSessions, tableNames } from '../rows.ts';
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

// Kept apart from the tables: sessions (the app database holds them on PostgreSQL) are compared
// by their contents below, and rate-limit counters are no data of the app's (SQLite keeps them in
// memory, where no snapshot looks).
const NOT_TABLES_OF_THE_APP = new Set(['sessions', 'rate_limits']);

// The sender delivers queued mail in the background, by design: a row's delivery bookkeeping
// (status, attempts, lease, its body dropped once sent) moves on its own, whenever the sender's
// round comes. Which mails were queued is the app's data; how far their delivery got is not.
const OUTBOX_ROWS = 'SELECT id, recipient, subject, message_id, created_at FROM outbox';

/**
 * Every row of every table of the app (of mail, what was queued, not how far its delivery got),
 * and every session's contents without its cookie and `savedAt` (expiry bookkeeping that slides
 * by design). Two equal snapshots mean nothing was changed.
 */
export async function snapshot(app: TestApp): Promise<Snapshot> {
  const result: Snapshot = {};
  for (const table of await tableNames(app)) {
    if (NOT_TABLES_OF_THE_APP.has(table)) continue;
    const rows = await app.sql(table === 'outbox' ? OUTBOX_ROWS : `SELECT * FROM "${table}"`);
    result[table] = rows.map((row) => JSON.stringify(row)).sort();
  }
  result['(sessions)'] = (await storedSessions(app)).map(({ sid, sess }) => {
    const { cookie: _sliding, savedAt: _slidAt, ...contents } = sess;
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
