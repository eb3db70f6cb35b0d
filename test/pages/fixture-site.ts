/**
 * The fixture site (test/fixtures/pages): a small page tree that exercises the page runtime
 * without depending on the shop's pages. Specs under test/pages and test/http start it with
 * `startFixtureSite()` and read what its pages printed with `textOf()`. Requests that must go out
 * byte for byte (`/../`, invalid UTF-8) use the security specs' `raw()`.
 */
import { fileURLToPath } from 'node:url';
import { PRODUCTION_MAIL, startApp, type TestApp } from '../support.ts';
import type { AppOptions } from '../../src/app.ts';

export const FIXTURE_PAGES = fileURLToPath(new URL('../fixtures/pages/', import.meta.url));

/** 40 random-looking characters: what production accepts as SESSION_SECRET. */
export const STRONG_SECRET = 'Zq8v3KfT1mWc9XbR2yLd7NpG4hJs6AeU0oIt5VkQ';

/**
 * Production behind a TLS-terminating proxy on loopback: with `X-Forwarded-Proto: https` the app
 * sees a secure request, so it sets its `Secure` cookies.
 */
export const PRODUCTION_ENV = {
  NODE_ENV: 'production', SESSION_SECRET: STRONG_SECRET, TRUST_PROXY: 'loopback', ...PRODUCTION_MAIL,
};

/** What that proxy adds to a request that reached it over HTTPS. */
export const HTTPS = { 'X-Forwarded-Proto': 'https' };

export function startFixtureSite(env: Record<string, string> = {}, options: AppOptions = {}): Promise<TestApp> {
  return startApp(env, { pagesDir: FIXTURE_PAGES, ...options });
}

/** The text of the element with this id, HTML entities decoded (the auth specs' reader). */
export { textOf } from '../visitors.ts';

/** How many hidden `_csrf` fields a page holds. */
export function csrfFieldCount(html: string): number {
  return html.match(/name="_csrf"/g)?.length ?? 0;
}
