/**
 * Journeys through an identity provider for the specs: pressing a page's "Continue with" (or
 * "Link", "Unlink") button as a browser submits it, the login at the test provider, the way back.
 */
import { expect } from 'vitest';
import type { Browser, TestApp } from '../support.ts';
import type { TestProvider } from './provider.ts';

/** The APP_URL of the specs driven over HTTP: only its redirect URIs need to match the provider's. */
export const APP_URL = 'http://shop.test';

let logins = 0;
/** A login at the provider (its `sub`) no other spec of this process uses. */
export function newLogin(prefix = 'ada'): string {
  return `${prefix}-${process.pid}-${++logins}`;
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/** The hidden fields of the page's POST form to `action`, as the browser would send them; null when the page has none. */
export function formFields(html: string, action: string): Record<string, string> | null {
  const forms = html.matchAll(/<form\b[^>]*>([\s\S]*?)<\/form>/g);
  for (const [whole, body] of forms) {
    if (!whole.startsWith('<form') || !whole.slice(0, whole.indexOf('>')).includes(`action="${action}"`)) continue;
    const fields: Record<string, string> = {};
    for (const input of body!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
      fields[input[1]!] = input[2]!.replace(/&(amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity]!);
    }
    return fields;
  }
  return null;
}

/** Submits the page's form to `action` (its CSRF token and hidden fields), as a click on its button. */
export async function press(browser: Browser, from: string, action: string, extra: Record<string, string> = {}) {
  const page = await browser.get(from);
  const fields = formFields(page.text, action);
  if (!fields) throw new Error(`no form to ${action} on ${from} (status ${page.status})`);
  return browser.post(action, { ...fields, ...extra });
}

/** Presses "Continue with" (or "Link") for `name` on `from`: the answer sending the browser to the provider. */
export async function start(browser: Browser, from = '/login', name = 'acme') {
  const started = await press(browser, from, `/auth/${name}/start`);
  expect(started.status, started.text).toBe(303);
  return started;
}

/**
 * The whole way: the button on `from`, the login at the provider as `login` (or a cancel there),
 * and the callback. Returns the app's answer to the callback.
 */
export async function continueWith(app: TestApp, browser: Browser, provider: TestProvider, login: string,
  options: { from?: string; name?: string; cancel?: boolean } = {}) {
  const started = await start(browser, options.from, options.name);
  const back = await provider.authorize(started.headers.location!, login, { cancel: options.cancel });
  expect(back.origin).toBe(new URL(app.ctx.config.appUrl).origin);
  return browser.get(back.pathname + back.search);
}

/** An auth_events row's detail as an object, whichever backend stored it (text or JSON). */
export function detailOf(event: { detail: unknown }): unknown {
  return typeof event.detail === 'string' ? JSON.parse(event.detail) : event.detail;
}

/** The identities rows of an account, oldest first. */
export function identitiesOf(app: TestApp, accountId: string) {
  return app.sql<{ provider: string; subject: string; email: string | null; email_verified: number }>(
    'SELECT provider, subject, email, email_verified FROM identities WHERE account_id = ? ORDER BY linked_at, provider', accountId);
}

/** Every auth event of `type`, with its detail parsed. */
export async function eventsNamed(app: TestApp, type: string) {
  const rows = await app.sql<{ record_id: string | null; collection: string | null; detail: unknown }>(
    'SELECT record_id, collection, detail FROM auth_events WHERE type = ? ORDER BY id', type);
  return rows.map((row) => ({ ...row, detail: detailOf(row) }));
}
