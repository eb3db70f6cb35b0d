/**
 * Response headers on every kind of response (pages, redirects, error pages, static files): a
 * Content-Security-Policy that allows no inline script, no MIME sniffing, a referrer policy that
 * keeps paths and query strings on this site, and no framing (clickjacking). And the dependency
 * tree: csurf's own old `cookie` is overridden (npm audit itself needs the network: see
 * scripts/audit-dependencies.ts, `npm run audit:deps`).
 */
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRODUCTION_MAIL, startApp, type TestApp, raw } from '../support.ts';
import { guestBrowser } from './attack.ts';

function directives(csp: string): Map<string, string[]> {
  return new Map(csp.split(';').map((part) => part.trim()).filter(Boolean).map((part) => {
    const [name, ...values] = part.split(/\s+/);
    return [name!.toLowerCase(), values] as [string, string[]];
  }));
}

function expectProtectiveHeaders(headers: Record<string, string | string[] | undefined>, what: string): void {
  const csp = directives(String(headers['content-security-policy'] ?? ''));
  const scripts = csp.get('script-src') ?? csp.get('default-src');
  expect(scripts, `${what}: script-src or default-src`).toBeDefined();
  expect(scripts, `${what}: no inline script`).not.toContain("'unsafe-inline'");
  expect(scripts, `${what}: no eval`).not.toContain("'unsafe-eval'");
  expect(scripts!.some((source) => source === '*' || /^(https?|data):?$/.test(source)), `${what}: no wildcard script source`).toBe(false);
  expect(csp.get('object-src'), what).toEqual(["'none'"]);
  expect(csp.get('base-uri'), what).toEqual(["'self'"]);
  expect(csp.get('form-action'), what).toEqual(["'self'"]);
  const framing = csp.get('frame-ancestors');
  const frameOptions = String(headers['x-frame-options'] ?? '').toUpperCase();
  expect(framing?.join(' ') === "'none'" || frameOptions === 'DENY' || frameOptions === 'SAMEORIGIN', `${what}: framing`).toBe(true);
  expect(headers['x-content-type-options'], what).toBe('nosniff');
  expect(['no-referrer', 'same-origin', 'strict-origin', 'strict-origin-when-cross-origin'], what).toContain(headers['referrer-policy']);
  expect(headers['x-powered-by'], what).toBeUndefined();
}

describe('security headers', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startApp(); });
  afterAll(async () => { await app.close(); });

  it('are on every page, redirect, error page and static file', async () => {
    const guest = await guestBrowser(app);
    const responses: Array<[string, { status: number; headers: Record<string, string | string[] | undefined> }]> = [];
    for (const path of ['/', '/products/candle', '/cart', '/checkout', '/try', '/account', '/login', '/register', '/logout']) {
      responses.push([`GET ${path} (guest)`, await guest.get(path)]);
      responses.push([`GET ${path} (new visitor)`, await app.browser().get(path)]);
    }
    responses.push(['404 page', await app.browser().get('/no-such-page')]);
    responses.push(['403 page', await app.browser().post('/login', { email: 'x@example.com' })]);
    responses.push(['405 page', await raw(app, { method: 'OPTIONS', path: '/' })]);
    responses.push(['400 page', await raw(app, { method: 'POST', path: '/login', body: 'a=%ZZ' })]);
    responses.push(['static file', await app.browser().get('/styles.css')]);
    expect(responses.map(([, response]) => response.status), JSON.stringify(responses.map(([w, r]) => [w, r.status]))).toEqual(expect.arrayContaining([200, 302, 404, 403, 405, 400]));
    for (const [what, response] of responses) expectProtectiveHeaders(response.headers, what);
  });

  it('forbid caching of pages that carry a CSRF token or account data', async () => {
    const guest = await guestBrowser(app);
    for (const path of ['/login', '/account', '/try', '/cart']) {
      expect((await guest.get(path)).headers['cache-control'], path).toContain('no-store');
    }
  });

  it('contain no inline script for the policy to allow', async () => {
    const guest = await guestBrowser(app);
    for (const path of ['/', '/products/candle', '/cart', '/checkout', '/try', '/account']) {
      const html = (await guest.get(path)).text;
      expect(html, path).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
      expect(html, path).not.toMatch(/\son[a-z]+\s*=/i);
    }
  });
});

describe('security headers in production', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ NODE_ENV: 'production', SESSION_SECRET: randomBytes(32).toString('hex'), TRUST_PROXY: 'loopback', ...PRODUCTION_MAIL });
  });
  afterAll(async () => { await app.close(); });

  it('add HSTS and upgrade-insecure-requests', async () => {
    const response = await app.browser().get('/').set('X-Forwarded-Proto', 'https');
    expectProtectiveHeaders(response.headers, 'production page');
    expect(response.headers['strict-transport-security']).toMatch(/max-age=\d{7,}/);
    expect(directives(response.headers['content-security-policy']!).has('upgrade-insecure-requests')).toBe(true);
  });
});

describe('dependencies', () => {
  it('resolve every copy of `cookie` to 0.7.0 or later (csurf pins 0.4.0, flagged as GHSA-pxg6-pf52-xh8x)', () => {
    const lock = JSON.parse(fs.readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as {
      packages: Record<string, { version?: string; dev?: boolean }>;
    };
    const copies = Object.entries(lock.packages).filter(([location]) => /(^|\/)node_modules\/cookie$/.test(location));
    expect(copies.length).toBeGreaterThan(0);
    for (const [location, { version }] of copies) {
      const [major, minor] = version!.split('.').map(Number);
      expect(major! > 0 || minor! >= 7, `${location}@${version}`).toBe(true);
    }
  });
});
