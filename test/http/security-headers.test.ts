/**
 * What every response carries: a Content-Security-Policy that lets no inline script run, no
 * MIME sniffing, a referrer policy, no framing, and nothing that names the framework. Static
 * files from public/ are served with cache headers (long-lived in production).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support.ts';
import { HTTPS, PRODUCTION_ENV, startFixtureSite } from '../pages/fixture-site.ts';


let app: TestApp;
let production: TestApp;
beforeAll(async () => {
  [app, production] = await Promise.all([startFixtureSite(), startFixtureSite(PRODUCTION_ENV)]);
});
afterAll(async () => { await Promise.all([app.close(), production.close()]); });

/** The CSP's directives by name: `{ 'script-src': ["'self'"], ... }`. */
function directives(header: string | undefined): Record<string, string[]> {
  expect(header, 'Content-Security-Policy header').toBeTruthy();
  return Object.fromEntries(header!.split(';').map((part) => part.trim()).filter(Boolean).map((part) => {
    const [name, ...values] = part.split(/\s+/);
    return [name!, values];
  }));
}

describe('security headers', () => {
  const pages: Array<[string, string]> = [['a page', '/about'], ['the 404 page', '/missing'], ['the 500 page', '/broken'], ['a static file', '/styles.css']];
  for (const [what, url] of pages) {
    it(`are on ${what} (${url})`, async () => {
      const response = await app.browser().get(url);
      const csp = directives(response.headers['content-security-policy']);
      const scripts = csp['script-src'] ?? csp['default-src'];
      expect(scripts).toEqual(["'self'"]);
      expect(scripts).not.toContain("'unsafe-inline'");
      expect(csp['frame-ancestors']).toEqual(["'none'"]);
      expect(csp['object-src']).toEqual(["'none'"]);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
      expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(response.headers).not.toHaveProperty('x-powered-by');
    });
  }

  it('keep form submissions on this site (form-action \'self\')', async () => {
    const csp = directives((await app.browser().get('/form')).headers['content-security-policy']);
    expect(csp['form-action']).toEqual(["'self'"]);
  });

  it('add HSTS in production, and not in development or test (where there is no TLS)', async () => {
    expect((await production.browser().get('/about').set(HTTPS)).headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect((await app.browser().get('/about')).headers).not.toHaveProperty('strict-transport-security');
  });

  it('mark rendered pages Cache-Control: no-store, since they may hold a visitor\'s data and token', async () => {
    expect((await app.browser().get('/form')).headers['cache-control']).toBe('no-store');
  });
});

describe('static files from public/', () => {
  it('are served with their type and Cache-Control max-age=0 outside production', async () => {
    const response = await app.browser().get('/styles.css');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/css/);
    expect(response.headers['cache-control']).toBe('public, max-age=0');
    expect(response.headers.etag).toBeTruthy();
  });

  it('are cached for a day in production', async () => {
    const response = await production.browser().get('/styles.css').set(HTTPS);
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('public, max-age=86400');
  });

  it('answer 304 to a browser revalidating with the ETag', async () => {
    const first = await app.browser().get('/favicon.svg');
    const again = await app.browser().get('/favicon.svg').set('If-None-Match', first.headers.etag!);
    expect(again.status).toBe(304);
  });

  it('do not include files outside public/', async () => {
    for (const url of ['/package.json', '/src/app.ts', '/..%2fpackage.json', '/styles.css%2f..%2f..%2fpackage.json']) {
      expect((await app.browser().get(url)).status, url).toBe(404);
    }
  });
});
