/**
 * A guest whom cleanup (another process) deletes while one of their requests is in flight: the
 * request was authenticated as the guest, then its write finds no account row (a foreign-key
 * failure in SQLite). The visitor must get the page as a signed-out visitor, never a 500.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { scalar, tamperSessions } from '../rows.ts';
import { BROWSER_UA, csrfTokenIn, startApp, type Browser, type TestApp } from '../support.ts';
import {
  becomeGuest, clearsCookie, countRows, getWithCookies, RESUME_COOKIE, SESSION_COOKIE, sessionSignsIn, setCookieLine,
} from '../visitors.ts';

let app: TestApp;
afterEach(async () => { await app.close(); });

interface Reply { status: number; headers: IncomingHttpHeaders }

/**
 * POSTs `fields` from `browser` in two parts, and deletes the guest `guestId` in between: once the
 * server has authenticated the request (it records the guest's activity then) and while it waits
 * for the rest of the body.
 */
async function postDeletingGuestMidRequest(browser: Browser, guestId: string, path: string, fields: Record<string, string>): Promise<Reply> {
  // Make the server record activity on this request, so we can see when it has authenticated it.
  await tamperSessions(app, (sess) => { sess.activeAt = 0; });
  const lastActive = () => scalar<number>(app, 'SELECT last_active_at FROM users WHERE id = ?', guestId);
  await app.sql('UPDATE users SET last_active_at = 1 WHERE id = ?', guestId);
  const body = new URLSearchParams(fields).toString();
  const split = body.lastIndexOf('&');
  const { hostname, port } = new URL(app.url);
  const cookie = [SESSION_COOKIE, RESUME_COOKIE].map((name) => `${name}=${browser.cookie(name)}`).join('; ');
  return new Promise<Reply>((resolve, reject) => {
    const request = http.request({
      host: hostname, port, path, method: 'POST',
      headers: {
        'user-agent': BROWSER_UA, cookie, 'content-type': 'application/x-www-form-urlencoded',
        'content-length': String(Buffer.byteLength(body)),
      },
    }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers }));
    });
    request.on('error', reject);
    request.write(body.slice(0, split));
    (async () => {
      for (const started = Date.now(); await lastActive() === 1; await new Promise((resolve) => setTimeout(resolve, 5))) {
        if (Date.now() - started > 5_000) return reject(new Error('the server never authenticated the request'));
      }
      await app.sql('DELETE FROM accounts WHERE id = ?', guestId); // what cleanup does, cascading to `users`
      request.end(body.slice(split));
    })().catch(reject);
  });
}

/** The value of the (new) session cookie a reply set. */
function sessionCookieIn(reply: Reply): string {
  const line = setCookieLine(reply, SESSION_COOKIE);
  if (!line) throw new Error('the reply set no session cookie');
  return line.slice(SESSION_COOKIE.length + 1, line.indexOf(';'));
}

describe('a guest deleted by cleanup in the middle of a request', () => {
  it.each([
    ['adds to the cart', '/products/ember-mug', { productId: 'ember-mug', quantity: '1' }, 'cart_items'],
    ['saves a note', '/try', { action: 'add-note', body: 'remember the milk' }, 'notes'],
  ])('%s: gets a 303 to the same page, signed out, not a 500', async (_what, path, fields, table) => {
    app = await startApp();
    const browser = app.browser();
    const guestId = await becomeGuest(browser);
    const token = csrfTokenIn((await browser.get(path)).text)!;

    const reply = await postDeletingGuestMidRequest(browser, guestId, path, { _csrf: token, ...fields });

    expect(reply.status).toBe(303);
    expect(reply.headers.location).toBe(path);
    expect(clearsCookie(reply, RESUME_COOKIE)).toBe(true);
    expect(await countRows(app, table)).toBe(0);
    const session = sessionCookieIn(reply);
    expect(await sessionSignsIn(app, session)).toBe(false);
    const next = await getWithCookies(app, path, { [SESSION_COOKIE]: session });
    expect(next.status).toBeLessThan(400);
  });

  it('shows the product page to the signed-out visitor after the redirect', async () => {
    app = await startApp();
    const browser = app.browser();
    const guestId = await becomeGuest(browser);
    const token = csrfTokenIn((await browser.get('/products/ember-mug')).text)!;
    const reply = await postDeletingGuestMidRequest(browser, guestId, '/products/ember-mug', { _csrf: token, productId: 'ember-mug', quantity: '1' });
    const page = await getWithCookies(app, reply.headers.location!, { [SESSION_COOKIE]: sessionCookieIn(reply) });
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1>Ember Mug</h1>');
    expect(page.text).toContain('href="/login"');
  });
});
