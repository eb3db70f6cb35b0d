/**
 * Files under the pages folder are the site's addresses (test/fixtures/pages):
 *
 *   index.eta  about.eta  echo.eta  users/{index,new,[name]}.eta  teams/[team]/{index,members}.eta
 *   docs/{_layout,index}.eta  docs/guide/{_layout,index}.eta  _layout.eta _404.eta _error.eta
 *   _draft.eta  _private/  _hidden/  docs/_private/
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, TestApp } from '../support.ts';
import { startFixtureSite, textOf } from './fixture-site.ts';
import { raw } from '../support.ts';

let app: TestApp;
let browser: Browser;
beforeAll(async () => {
  app = await startFixtureSite();
  browser = app.browser();
});
afterAll(async () => { await app.close(); });

describe('pages are addresses', () => {
  it('serves index.eta at its folder: / is the root index', async () => {
    const response = await browser.get('/');
    expect(response.status).toBe(200);
    expect(response.text).toContain('Fixture home page');
  });

  it('serves index.eta of a sub-folder at the folder, with or without a trailing slash', async () => {
    for (const url of ['/users', '/users/']) {
      const response = await browser.get(url);
      expect(response.status, url).toBe(200);
      expect(response.text, url).toContain('All users');
    }
  });

  it('serves a named file at its name, without the .eta extension', async () => {
    expect((await browser.get('/about')).text).toContain('About page');
    expect((await browser.get('/about.eta')).status).toBe(404);
  });

  it('serves pages in nested folders', async () => {
    const response = await browser.get('/docs/guide');
    expect(response.status).toBe(200);
    expect(response.text).toContain('Guide page');
  });

  it('answers 404 for an address with no page', async () => {
    for (const url of ['/nothing-here', '/docs/missing', '/users/ada/extra', '/index']) {
      expect((await browser.get(url)).status, url).toBe(404);
    }
  });
});

describe('[name].eta and [name]/ capture a parameter', () => {
  it('gives the page the segment as params.name and request.params.name', async () => {
    const response = await browser.get('/users/ada');
    expect(response.status).toBe(200);
    expect(textOf(response.text, 'param')).toBe('ada');
    expect(textOf(response.text, 'request-param')).toBe('ada');
  });

  it('decodes the segment, and the page prints it escaped', async () => {
    const unicode = await browser.get('/users/J%C3%BCrgen');
    expect(textOf(unicode.text, 'param')).toBe('Jürgen');
    const tag = await browser.get('/users/%3Cimg%20src%3Dx%3E');
    expect(tag.text).toContain('&lt;img src=x&gt;');
    expect(tag.text).not.toContain('<img src=x>');
  });

  it('captures a folder segment for the pages inside it ([team]/index.eta and [team]/members.eta)', async () => {
    const team = await browser.get('/teams/red');
    expect(team.status).toBe(200);
    expect(textOf(team.text, 'team')).toBe('red');
    const members = await browser.get('/teams/blue/members');
    expect(members.status).toBe(200);
    expect(textOf(members.text, 'team')).toBe('blue');
  });

  it('prefers a static name over a parameter: /users/new is new.eta, not [name].eta', async () => {
    const response = await browser.get('/users/new');
    expect(response.text).toContain('New user form page (static)');
    expect(response.text).not.toContain('id="param"');
  });
});

describe('names starting with _ are never addresses', () => {
  const hidden = [
    '/_layout', '/_404', '/_error', '/_draft', '/_private/secret', '/_private/greeting', '/_hidden/page',
    '/docs/_layout', '/docs/_private/note', '/docs/guide/_layout', '/%5Fprivate/secret', '/%5flayout',
  ];
  for (const url of hidden) {
    it(`answers 404 to ${url}, with the site's 404 page`, async () => {
      const response = await browser.get(url);
      expect(response.status).toBe(404);
      expect(response.text).toContain('Fixture 404');
      expect(response.text).not.toMatch(/never a page|a partial|docs-layout|A note kept/);
    });
  }
});

describe('paths that try to leave the pages folder', () => {
  const attempts = [
    '/../package.json', '/..%2fpackage.json', '/%2e%2e/', '/%2e%2e/package.json', '/%2E%2E%2Fpackage.json',
    '/a%2fb', '/users%2fada', '/%5c..', '/%5c..%5cpackage.json', '/docs/..%2f..%2fpackage.json',
    '/users/..', '/users/%2e%2e', '/users/..%2f..%2fpackage.json', '/%E0%A4%A', '/users/%E0%A4%A', '/%zz',
    '/about%00', '/users/ada%00', '/.git/config', '/.env',
  ];
  for (const path of attempts) {
    it(`answers 404 to GET ${path}`, async () => {
      const response = await raw(app, { path });
      expect(response.status).toBe(404);
      expect(response.body).toContain('Fixture 404');
      expect(response.body).not.toMatch(/"name": "guestkit"|\[core\]/);
    });
  }
});

describe('what a page knows about the request', () => {
  it('reads request.method, request.path, and request.url with its query string', async () => {
    const response = await browser.get('/echo?q=hello&page=2');
    expect(textOf(response.text, 'method')).toBe('GET');
    expect(textOf(response.text, 'path')).toBe('/echo');
    // redirect(request.url) must reload the same page, query included.
    expect(textOf(response.text, 'url')).toBe('/echo?q=hello&page=2');
  });

  it('reads the parsed query string as request.query', async () => {
    const response = await browser.get('/echo?q=two%20words&page=3');
    expect(textOf(response.text, 'q')).toBe('two words');
    expect(textOf(response.text, 'page')).toBe('3');
  });

  it('has an empty formData on GET', async () => {
    const response = await browser.get('/echo?message=from-the-query');
    expect(textOf(response.text, 'message')).toBe('undefined');
  });
});

describe('one page answers GET and POST; other methods get 405', () => {
  it('renders the same page for a POST, with request.method POST and the body as formData', async () => {
    const response = await browser.submit('/echo', { message: 'posted text' }, '/form');
    expect(response.status).toBe(200);
    expect(textOf(response.text, 'method')).toBe('POST');
    expect(textOf(response.text, 'message')).toBe('posted text');
  });

  it('answers HEAD like GET, without a body', async () => {
    const response = await browser.agent.head('/about');
    expect(response.status).toBe(200);
    expect(response.text ?? '').toBe('');
  });

  it('answers 405 with Allow: GET, HEAD, POST to PUT, PATCH and DELETE carrying a valid token', async () => {
    const visitor = app.browser();
    const form = await visitor.get('/form');
    const token = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
    for (const method of ['put', 'patch', 'delete'] as const) {
      const response = await visitor.agent[method]('/about').set('User-Agent', visitor.userAgent).set('x-csrf-token', token);
      expect(response.status, method).toBe(405);
      expect(response.headers.allow, method).toBe('GET, HEAD, POST');
      expect(response.text, method).toContain('Method not allowed');
      expect(response.text, method).toContain('data-layout="root"');
    }
  });

  it('answers 405 with an Allow header to OPTIONS', async () => {
    const response = await raw(app, { method: 'OPTIONS', path: '/about' });
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('GET, HEAD, POST');
  });
});
