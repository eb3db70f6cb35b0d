/**
 * CSRF, as a visitor and an attacker meet it. The fixture form.eta is a plain form written
 * without a token, the way the helper documentation writes them:
 *
 *   <form method="POST" action="/form"><input name="message"><button>Send</button></form>
 *
 * and a POST to it prints "Received: <message>". The runtime adds the hidden `_csrf` field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrfTokenIn, type Browser, type TestApp } from '../support.ts';
import { csrfFieldCount, startFixtureSite, textOf } from '../pages/fixture-site.ts';

let app: TestApp;
beforeAll(async () => { app = await startFixtureSite(); });
afterAll(async () => { await app.close(); });

/** A browser that has loaded the form, and the token its page carried. */
async function visitorWithForm(): Promise<{ browser: Browser; token: string }> {
  const browser = app.browser();
  const token = csrfTokenIn((await browser.get('/form')).text);
  if (!token) throw new Error('the form page carried no CSRF token');
  return { browser, token };
}

function expectFormExpiredPage(response: { status: number; text: string }): void {
  expect(response.status).toBe(403);
  expect(response.text).toContain('This form has expired');
  expect(response.text).toContain('data-layout="root"');
  expect(response.text).toMatch(/<a class="back" href="\/[^"]*">/);
  expect(response.text).not.toMatch(/ForbiddenError|EBADCSRFTOKEN|\n\s+at |node_modules|Received:/);
}

describe('the token is added to forms the page renders', () => {
  it('adds a hidden _csrf field to a plain <form method="POST"> written without one', async () => {
    const page = await app.browser().get('/form');
    expect(csrfFieldCount(page.text)).toBe(1);
    expect(page.text).toMatch(/<form method="POST" action="\/form"><input type="hidden" name="_csrf" value="[\w-]{20,}">/);
  });

  it('lets that form be submitted as the browser would send it', async () => {
    const response = await app.browser().submit('/form', { message: 'hello' });
    expect(response.status).toBe(200);
    expect(textOf(response.text, 'received')).toBe('Received: hello');
  });

  it('keeps exactly one field in a form that already calls csrfField()', async () => {
    expect(csrfFieldCount((await app.browser().get('/form-with-field')).text)).toBe(1);
  });

  it('gives no token to forms posting to another site, nor to GET forms', async () => {
    const page = (await app.browser().get('/external-form')).text;
    const form = (id: string) => new RegExp(`<form[^>]*id="${id}"[^>]*>[\\s\\S]*?</form>`).exec(page)![0];
    expect(form('absolute')).not.toContain('_csrf');
    expect(form('protocol-relative')).not.toContain('_csrf');
    expect(form('search')).not.toContain('_csrf');
    expect(form('relative')).toContain('name="_csrf"');
  });
});

describe('POST /form is refused with the "form expired" page', () => {
  it('without a token', async () => {
    const { browser } = await visitorWithForm();
    expectFormExpiredPage(await browser.post('/form', { message: 'no token' }));
  });

  it('without a token or any session (a forged first request)', async () => {
    expectFormExpiredPage(await app.browser().post('/form', { message: 'forged' }));
  });

  it('with a wrong token', async () => {
    const { browser, token } = await visitorWithForm();
    const wrong = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expectFormExpiredPage(await browser.post('/form', { _csrf: wrong, message: 'wrong' }));
  });

  it('with a valid token from another visitor\'s session', async () => {
    const attacker = await visitorWithForm();
    const victim = await visitorWithForm();
    expectFormExpiredPage(await victim.browser.post('/form', { _csrf: attacker.token, message: 'stolen token' }));
  });

  it('with the token in the query string (?_csrf=), even when it is valid', async () => {
    const { browser, token } = await visitorWithForm();
    expectFormExpiredPage(await browser.post(`/form?_csrf=${encodeURIComponent(token)}`, { message: 'query token' }));
  });

  it('from another site\'s Origin, even with a valid token', async () => {
    const { browser, token } = await visitorWithForm();
    const response = await browser.post('/form', { _csrf: token, message: 'cross-site' }).set('Origin', 'https://evil.example');
    expectFormExpiredPage(response);
  });

  it('from an opaque Origin (null: a sandboxed frame or data: URL), even with a valid token', async () => {
    const { browser, token } = await visitorWithForm();
    expectFormExpiredPage(await browser.post('/form', { _csrf: token, message: 'sandboxed' }).set('Origin', 'null'));
  });

  it('marked Sec-Fetch-Site: cross-site by the browser, even with a valid token', async () => {
    const { browser, token } = await visitorWithForm();
    expectFormExpiredPage(await browser.post('/form', { _csrf: token, message: 'x' }).set('Sec-Fetch-Site', 'cross-site'));
  });

  it('links back to the page the form was on', async () => {
    const { browser } = await visitorWithForm();
    const response = await browser.post('/form', { message: 'no token' }).set('Referer', `${app.url}/form`);
    expect(response.text).toContain('<a class="back" href="/form">');
  });
});

describe('POST /form is accepted', () => {
  it('with the token in the x-csrf-token header', async () => {
    const { browser, token } = await visitorWithForm();
    const response = await browser.post('/form', { message: 'by header' }).set('x-csrf-token', token);
    expect(response.status).toBe(200);
    expect(textOf(response.text, 'received')).toBe('Received: by header');
  });

  it('with this site\'s own Origin and the page\'s token', async () => {
    const { browser, token } = await visitorWithForm();
    const response = await browser.post('/form', { _csrf: token, message: 'same origin' }).set('Origin', app.url);
    expect(response.status).toBe(200);
  });

  it('again with the same token: a second form submitted from the same page works', async () => {
    const { browser, token } = await visitorWithForm();
    expect((await browser.post('/form', { _csrf: token, message: 'one' })).status).toBe(200);
    expect((await browser.post('/form', { _csrf: token, message: 'two' })).status).toBe(200);
  });
});
