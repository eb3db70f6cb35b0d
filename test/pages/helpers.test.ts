/**
 * The request and response helpers templates call without a prefix: redirect(), response.status()
 * and response.header(), flash(), and escaped output. The fixture page redirect.eta is:
 *
 *   try { redirect(request.query.to ?? '/about', { status }); flash('info', 'the code after redirect() ran') }
 *   catch (error) { flash('error', 'redirect() threw') }
 *   <p>This body is never sent.</p>
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support.ts';
import { csrfTokenIn } from '../support.ts';
import { startFixtureSite, textOf } from './fixture-site.ts';

let app: TestApp;
beforeAll(async () => { app = await startFixtureSite(); });
afterAll(async () => { await app.close(); });

describe('redirect()', () => {
  it('answers 302 to a GET, and discards the page body', async () => {
    const response = await app.browser().get('/redirect');
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe('/about');
    expect(response.text).not.toContain('This body is never sent');
  });

  it('answers with no body at all: only the status and Location', async () => {
    const response = await app.browser().get('/redirect').set('Accept', 'text/html');
    expect(response.headers['content-length']).toBe('0');
    expect(response.text).toBe('');
  });

  it('does not throw: the template\'s try block runs on, and its catch never runs', async () => {
    const browser = app.browser();
    await browser.get('/redirect');
    const next = await browser.get('/about');
    expect(next.text).toContain('the code after redirect() ran');
    expect(next.text).not.toContain('redirect() threw');
  });

  it('leaves out a partial included after it (the page has no body), not one included before', async () => {
    const browser = app.browser();
    expect((await browser.get('/redirect-with-partials')).status).toBe(302);
    const next = await browser.get('/about');
    expect(next.text).toContain('the partial before redirect() ran');
    expect(next.text).not.toContain('the partial after redirect() ran');
    expect(next.text).not.toContain('the partial included synchronously after redirect() ran');
  });

  it('answers 303 to a POST, so the browser follows with a GET', async () => {
    const response = await app.browser().submit('/redirect', {}, '/form');
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/about');
  });

  it('honours { status } for GET and POST', async () => {
    const browser = app.browser();
    expect((await browser.get('/redirect?status=301')).status).toBe(301);
    expect((await browser.submit('/redirect?status=307', {}, '/form')).status).toBe(307);
  });

  it('sends the target as given, query string included', async () => {
    const response = await app.browser().get(`/redirect?to=${encodeURIComponent('/echo?q=back')}`);
    expect(response.headers.location).toBe('/echo?q=back');
  });
});

describe('response.status() and response.header()', () => {
  it('set the status and a header of the rendered page, which keeps its layout', async () => {
    const response = await app.browser().get('/status');
    expect(response.status).toBe(202);
    expect(response.headers['x-fixture']).toBe('set by the page');
    expect(response.text).toContain('Accepted for later');
    expect(response.text).toContain('data-layout="root"');
  });
});

describe('flash(type, message)', () => {
  it('shows the message on the next page, once', async () => {
    const browser = app.browser();
    const saved = await browser.submit('/flash', { message: 'my note' });
    expect(saved.status).toBe(303);
    expect(saved.headers.location).toBe('/flash');
    const next = await browser.get('/flash');
    expect(next.text).toContain('<p class="flash flash-success">Saved: my note</p>');
    const again = await browser.get('/flash');
    expect(again.text).not.toContain('Saved: my note');
  });

  it('shows a message only to the browser it was flashed for', async () => {
    const author = app.browser();
    const other = app.browser();
    await other.get('/flash');
    await author.submit('/flash', { message: 'private' });
    expect((await other.get('/flash')).text).not.toContain('Saved: private');
    expect((await author.get('/flash')).text).toContain('Saved: private');
  });
});

describe('escaping', () => {
  it('escapes user input printed with <%= %>: a <script> in the query string is shown as text', async () => {
    const response = await app.browser().get(`/echo?q=${encodeURIComponent('<script>alert("x")</script>')}`);
    expect(response.text).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(response.text).not.toContain('<script>');
    expect(textOf(response.text, 'q')).toBe('<script>alert("x")</script>');
  });

  it('escapes posted form data the same way', async () => {
    const response = await app.browser().submit('/echo', { message: '<img src=x onerror=alert(1)>' }, '/form');
    expect(response.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(response.text).not.toContain('<img');
  });

  it('never runs user input as template code: <%= 7*7 %> in the query string prints as typed', async () => {
    const response = await app.browser().get(`/echo?q=${encodeURIComponent('<%= 7*7 %>')}`);
    expect(textOf(response.text, 'q')).toBe('<%= 7*7 %>');
    expect(response.text).not.toContain('49');
  });
});

describe('csrfField() and csrfToken()', () => {
  it('print a token that the same browser can submit', async () => {
    const browser = app.browser();
    const page = await browser.get('/form-with-field');
    const token = csrfTokenIn(page.text);
    expect(token).toMatch(/^[\w-]{20,}$/);
    const response = await browser.post('/form', { _csrf: token!, message: 'with the helper' });
    expect(response.status).toBe(200);
    expect(textOf(response.text, 'received')).toBe('Received: with the helper');
  });
});
