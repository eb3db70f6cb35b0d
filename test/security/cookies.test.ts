/**
 * Cookie flags in production, behind a TLS-terminating proxy on the same machine
 * (TRUST_PROXY=loopback, `X-Forwarded-Proto: https`): every cookie is a `__Host-` cookie
 * (Secure, Path=/, no Domain: no sibling subdomain can set or read them), HttpOnly (no script
 * can read them) and SameSite=Lax (no cross-site POST carries them).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_UA, csrfTokenIn, PRODUCTION_MAIL, startApp, type TestApp } from '../support.ts';
import { PASSWORD, uniqueEmail } from './attack.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startApp({ NODE_ENV: 'production', SESSION_SECRET: randomBytes(32).toString('hex'), TRUST_PROXY: 'loopback', ...PRODUCTION_MAIL });
});
afterAll(async () => { await app.close(); });

interface Cookie { name: string; value: string; attributes: Map<string, string> }

function parseSetCookie(header: string): Cookie {
  const [pair, ...attributes] = header.split(';').map((part) => part.trim());
  const eq = pair!.indexOf('=');
  return {
    name: pair!.slice(0, eq),
    value: pair!.slice(eq + 1),
    attributes: new Map(attributes.map((attribute) => {
      const [key, ...rest] = attribute.split('=');
      return [key!.toLowerCase(), rest.join('=')] as [string, string];
    })),
  };
}

/** A browser over HTTPS through the proxy: keeps cookies by name, sends X-Forwarded-Proto. */
class SecureBrowser {
  readonly jar = new Map<string, string>();
  readonly setCookies: Cookie[] = [];

  async request(path: string, init: { method?: string; form?: Record<string, string> } = {}) {
    const response = await fetch(app.url + path, {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: {
        'user-agent': BROWSER_UA,
        'x-forwarded-proto': 'https',
        cookie: [...this.jar].map(([name, value]) => `${name}=${value}`).join('; '),
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
    });
    for (const header of response.headers.getSetCookie()) {
      const cookie = parseSetCookie(header);
      this.setCookies.push(cookie);
      if (cookie.value === '' || cookie.attributes.get('expires')?.includes('1970')) this.jar.delete(cookie.name);
      else this.jar.set(cookie.name, cookie.value);
    }
    return { status: response.status, text: await response.text(), location: response.headers.get('location') };
  }

  async submit(path: string, fields: Record<string, string>) {
    const token = csrfTokenIn((await this.request(path)).text);
    if (!token) throw new Error(`no CSRF token on ${path}`);
    return this.request(path, { method: 'POST', form: { _csrf: token, ...fields } });
  }
}

function expectHostCookie(cookie: Cookie | undefined, name: string): void {
  expect(cookie, `${name} was set`).toBeDefined();
  expect(cookie!.name).toBe(name);
  expect(cookie!.attributes.has('secure'), `${name} Secure`).toBe(true);
  expect(cookie!.attributes.has('httponly'), `${name} HttpOnly`).toBe(true);
  expect(cookie!.attributes.get('samesite')?.toLowerCase(), `${name} SameSite`).toBe('lax');
  expect(cookie!.attributes.get('path'), `${name} Path`).toBe('/');
  expect(cookie!.attributes.has('domain'), `${name} has no Domain`).toBe(false);
}

describe('cookies in production', () => {
  it('sets __Host-gk.sid and __Host-gk.resume with Secure, HttpOnly, SameSite=Lax, Path=/ and no Domain for a new guest', async () => {
    const browser = new SecureBrowser();
    await browser.request('/try');
    expect(browser.setCookies.map((cookie) => cookie.name).sort()).toEqual(['__Host-gk.resume', '__Host-gk.sid']);
    for (const name of ['__Host-gk.sid', '__Host-gk.resume']) {
      expectHostCookie(browser.setCookies.find((cookie) => cookie.name === name), name);
    }
  });

  it('keeps the same flags on every cookie it sets or clears through conversion and sign-out', async () => {
    const browser = new SecureBrowser();
    await browser.request('/try');
    const converted = await browser.submit('/account', { action: 'convert-guest', email: uniqueEmail('prod'), password: PASSWORD });
    expect(converted.status).toBe(303);
    expect(await browser.submit('/logout', {})).toMatchObject({ status: 303 });
    expect(browser.setCookies.length).toBeGreaterThan(3);
    for (const cookie of browser.setCookies) expectHostCookie(cookie, cookie.name);
    // The resume cookie is cleared once the guest is an account: a browser drops a __Host-
    // cookie's clearing header unless it carries Secure and Path=/ too, as checked above.
    const resume = browser.setCookies.filter((cookie) => cookie.name === '__Host-gk.resume');
    expect(resume.at(-1)!.value).toBe('');
  });

  it('sets __Host-gk.device for a year, with the same flags, when a member signs in with their password', async () => {
    const email = uniqueEmail('device');
    await app.ctx.accounts.register(app.ctx.storage.transactor.begin(), null, { email, password: PASSWORD });
    const browser = new SecureBrowser();
    expect((await browser.submit('/login', { email, password: PASSWORD })).status).toBe(303);
    const device = browser.setCookies.find((cookie) => cookie.name === '__Host-gk.device');
    expectHostCookie(device, '__Host-gk.device');
    expect(Number(device!.attributes.get('max-age'))).toBe(365 * 86_400);
  });

  it('sets only __Host-gk.csrf, with the same flags, for a visitor shown a form, whose token then signs up over HTTPS', async () => {
    const browser = new SecureBrowser();
    await browser.request('/register');
    expect(browser.setCookies.map((cookie) => cookie.name)).toEqual(['__Host-gk.csrf']);
    expectHostCookie(browser.setCookies[0], '__Host-gk.csrf');
    const registered = await browser.submit('/register', { email: uniqueEmail('prod-csrf'), password: PASSWORD });
    expect(registered.status).toBe(303);
    expect(browser.jar.has('__Host-gk.sid')).toBe(true);
  });

  it('never sends a session cookie over plain HTTP', async () => {
    const response = await fetch(`${app.url}/login`, { headers: { 'user-agent': BROWSER_UA } });
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie().filter((cookie) => cookie.includes('gk.sid'))).toEqual([]);
  });

  it('uses no cookie names without the __Host- prefix', async () => {
    const browser = new SecureBrowser();
    await browser.request('/try');
    await browser.submit('/products/candle', { productId: 'candle', quantity: '1' });
    expect(browser.setCookies.every((cookie) => cookie.name.startsWith('__Host-'))).toBe(true);
  });
});
