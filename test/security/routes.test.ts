/**
 * Addresses an attacker writes: paths that try to climb out of views/pages (or reach partials,
 * layouts and source files), and `next` targets that try to send a freshly signed-in visitor to
 * another site. Paths go over raw HTTP because `fetch` would normalise `/../` away.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp, raw } from '../support.ts';
import { expectRedirect, PASSWORD, registeredBrowser, uniqueEmail } from './attack.ts';

let app: TestApp;
beforeAll(async () => { app = await startApp(); });
afterAll(async () => { await app.close(); });

describe('path traversal and encoded slashes', () => {
  const paths = [
    '/../package.json', '/%2e%2e/package.json', '/%2E%2E%2Fpackage.json', '/..%2fpackage.json', '/..%5cpackage.json',
    '/products/..%2f..%2fpackage.json', '/products/%2e%2e%2f%2e%2e%2fREADME.md', '/products/%2e%2e', '/orders/..',
    '/products%2fember-mug', '/products/ember-mug%2f..', '/cart%2f', '/cart%5c', '/styles.css/..%2f..%2fpackage.json',
    '/_private/header', '/_private%2fheader', '/%5fprivate/header', '/_layout', '/_404', '/_error', '/products/_layout',
    '/products/%00', '/products/ember-mug%00', '/cart%00.eta', '/index.eta', '/views/pages/index.eta', '/src/server.ts',
    '/.git/config', '/.env', '//evil.example', '/products/..;/..;/package.json', '/%c0%ae%c0%ae/package.json',
  ];
  for (const path of paths) {
    it(`answers 404 to GET ${path}`, async () => {
      const response = await raw(app, { path });
      expect(response.status).toBe(404);
      expect(response.body).not.toMatch(/"name": "guestkit"|<%|import |\[core\]/);
    });
  }
});

describe('`next` after signing in stays on this site', () => {
  const email = uniqueEmail('next');
  beforeAll(async () => { await registeredBrowser(app, email); });

  const offSite = [
    '//evil.example', '/\\evil.example', '\\\\evil.example', 'https://evil.example', 'https:evil.example',
    'http:/evil.example', '/%2F%2Fevil.example', '/%2f%5cevil.example', '/%5Cevil.example', 'javascript:alert(1)',
    'JaVaScRiPt:alert(1)', ' //evil.example', '/\t/evil.example', '/.//evil.example', '/x/..//evil.example',
    '/%2e%2e//evil.example', '///evil.example', 'data:text/html,<script>alert(1)</script>',
  ];

  for (const next of offSite) {
    it(`lands on / for next=${JSON.stringify(next)} in the form`, async () => {
      const browser = app.browser();
      const response = await browser.submit('/login', { email, password: PASSWORD, next });
      expectRedirect(response, 'sign-in');
      expect(response.headers.location).toBe('/');
    });

    it(`lands on / for next=${JSON.stringify(next)} in the sign-in link`, async () => {
      const browser = app.browser();
      const link = `/login?next=${encodeURIComponent(next)}`;
      const page = await browser.get(link);
      const carried = /name="next" value="([^"]*)"/.exec(page.text)?.[1];
      expect(carried).toBe('/');
      const response = await browser.submit(link, { email, password: PASSWORD, next: carried! }, link);
      expect(response.headers.location).toBe('/');
    });
  }

  it('lands on / when the page the visitor came from (Referer) is another site', async () => {
    const browser = app.browser();
    const page = await browser.get('/login').set('Referer', 'https://evil.example/phish');
    expect(/name="next" value="([^"]*)"/.exec(page.text)?.[1]).toBe('/');
  });

  it('lands on / after registering with an off-site next', async () => {
    const browser = app.browser();
    const response = await browser.submit('/register', { email: uniqueEmail('next'), password: PASSWORD, next: '/.//evil.example' });
    expectRedirect(response, 'registration');
    expect(response.headers.location).toBe('/');
  });

  // A 60,000-character next came back as a 60,001-byte Location, which a proxy with an 8 kB
  // header buffer turns into a 502.
  it('lands on / for a 60,000-character next, so the Location fits a proxy\'s header buffer', async () => {
    const browser = app.browser();
    const response = await browser.submit('/login', { email, password: PASSWORD, next: `/${'a'.repeat(59_999)}` });
    expectRedirect(response, 'sign-in');
    expect(response.headers.location).toBe('/');
  });

  it('lands on / for a next of 700 accented letters, over 2 kB once percent-encoded', async () => {
    const response = await app.browser().submit('/login', { email, password: PASSWORD, next: `/${'\u00e9'.repeat(700)}` });
    expect(response.headers.location).toBe('/');
  });

  it('keeps a 1,900-character next on this site', async () => {
    const next = `/orders?ref=${'b'.repeat(1_888)}`;
    const response = await app.browser().submit('/login', { email, password: PASSWORD, next });
    expect(response.headers.location).toBe(next);
  });

  it('still returns to a page on this site (the control)', async () => {
    const browser = app.browser();
    const response = await browser.submit('/login', { email, password: PASSWORD, next: '/cart?from=login' });
    expect(response.headers.location).toBe('/cart?from=login');
  });
});
