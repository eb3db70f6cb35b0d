/**
 * Form bodies the app cannot read get a page that says so (400), bodies over the limit get 413:
 * never a 500, never garbled text stored. Each request comes from a visitor holding a valid token,
 * so only the body is wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrfTokenIn, type TestApp, raw } from '../support.ts';
import { startFixtureSite, textOf } from '../pages/fixture-site.ts';

let app: TestApp;
let logs: string[];
beforeAll(async () => {
  logs = [];
  app = await startFixtureSite({}, { log: (message) => logs.push(message) });
});
afterAll(async () => { await app.close(); });

/** POSTs `body` byte for byte, after a valid token, from a visitor who loaded the form. */
async function postRaw(body: string | Buffer) {
  const browser = app.browser();
  const token = csrfTokenIn((await browser.get('/form')).text)!;
  const prefix = Buffer.from(`_csrf=${encodeURIComponent(token)}&`);
  const response = await raw(app, {
    method: 'POST', path: '/form', body: Buffer.concat([prefix, Buffer.from(body)]),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `gk.csrf=${browser.cookie('gk.csrf')}` },
  });
  return { status: response.status, text: response.body };
}

describe('a malformed urlencoded body answers the 400 page', () => {
  const bodies: Array<[string, string | Buffer]> = [
    ['a bad percent-escape (message=%zz)', 'message=%zz'],
    ['a truncated percent-escape (message=abc%4)', 'message=abc%4'],
    ['a percent-encoded invalid UTF-8 byte (message=%FF)', 'message=%FF'],
    ['an overlong UTF-8 encoding (message=%C0%AE)', 'message=%C0%AE'],
    ['raw invalid UTF-8 bytes', Buffer.from([0x6d, 0x65, 0x73, 0x73, 0x61, 0x67, 0x65, 0x3d, 0xff, 0xfe, 0x41])],
    ['a bad escape in a field name (%zz=1)', '%zz=1&message=ok'],
  ];
  for (const [what, body] of bodies) {
    it(`for ${what}`, async () => {
      const response = await postRaw(body);
      expect(response.status).toBe(400);
      expect(response.text).toContain('The form data could not be read');
      expect(response.text).toContain('data-layout="root"');
      expect(response.text).not.toContain('Received:');
    });
  }

  it('and logs none of them as a server error', async () => {
    logs.length = 0;
    await postRaw('message=%zz');
    expect(logs).toEqual([]);
  });

  it('while a well-formed body with escapes, + and UTF-8 reads as typed', async () => {
    const response = await postRaw('message=caf%C3%A9+%26+cr%C3%A8me%20100%25');
    expect(response.status).toBe(200);
    expect(textOf(response.text, 'received')).toBe('Received: café & crème 100%');
  });
});

describe('a body over the limit', () => {
  it('answers the 413 page', async () => {
    const response = await postRaw(`message=${'x'.repeat(70 * 1024)}`);
    expect(response.status).toBe(413);
    expect(response.text).toContain('Too much data');
    expect(response.text).toContain('data-layout="root"');
  });

  it('is refused even before the visitor has a session', async () => {
    const response = await app.browser().post('/form', { message: 'x'.repeat(70 * 1024) });
    expect(response.status).toBe(413);
  });

  it('while a body just under it is accepted', async () => {
    const response = await postRaw(`message=${'x'.repeat(60 * 1024)}`);
    expect(response.status).toBe(200);
  });
});
