/**
 * Layouts and partials, as a template author uses them: `_layout.eta` wraps the pages of its
 * folder and below (outer around inner), partials live in `_private/` folders and are pulled in
 * with `include`, and templates may `await`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, TestApp } from '../support.ts';
import { startFixtureSite, textOf } from './fixture-site.ts';

let app: TestApp;
let browser: Browser;
beforeAll(async () => {
  app = await startFixtureSite();
  browser = app.browser();
});
afterAll(async () => { await app.close(); });

/** Asserts each marker appears in the page, after the one before it. */
function expectInOrder(html: string, ...markers: string[]): void {
  let previous = -1;
  for (const marker of markers) {
    const at = html.indexOf(marker, previous + 1);
    expect(at, `"${marker}" after position ${previous} in:\n${html}`).toBeGreaterThan(previous);
    previous = at;
  }
}

describe('_layout.eta', () => {
  it('wraps every page of the site in the root layout', async () => {
    expectInOrder((await browser.get('/about')).text, 'data-layout="root"', '<main>', 'About page', '</main>', '</html>');
  });

  it('wraps the pages of its folder inside the outer layout', async () => {
    expectInOrder((await browser.get('/docs')).text,
      'data-layout="root"', '<main>', 'class="docs-layout"', 'Docs index', '</div>', '</main>');
  });

  it('nests: root, then docs/_layout, then docs/guide/_layout around a page in docs/guide', async () => {
    expectInOrder((await browser.get('/docs/guide')).text, 'data-layout="root"', '<main>', 'class="docs-layout"',
      'class="guide-layout"', 'Guide page', '</section>', '</div>', '</main>');
  });

  it('does not apply a folder\'s layout to pages outside that folder', async () => {
    const response = await browser.get('/about');
    expect(response.text).not.toContain('docs-layout');
    expect(response.text).not.toContain('guide-layout');
  });

  it('lets the layout read page.title set by the page', async () => {
    expect((await browser.get('/about')).text).toContain('<title>About the fixture</title>');
    expect((await browser.get('/users/grace')).text).toContain('<title>User grace</title>');
    expect((await browser.get('/echo')).text).toContain('<title>Fixture site</title>');
  });
});

describe('partials', () => {
  it('includes /_private/ partials by their path from the pages folder, with data', async () => {
    const response = await browser.get('/partials');
    expect(response.status).toBe(200);
    expect(response.text).toContain('<p class="greeting">Hello, Ada!</p>');
    expect(response.text).toContain('a partial, never a page');
  });

  it('includes a partial from a _private/ folder next to the page by a relative path', async () => {
    const response = await browser.get('/docs');
    expect(response.text).toContain('A note kept next to the docs pages');
  });
});

describe('async templates', () => {
  it('can await a promise inside <% %> and await includeAsync()', async () => {
    const response = await browser.get('/async');
    expect(response.status).toBe(200);
    expect(textOf(response.text, 'awaited')).toBe('awaited value');
    expect(response.text).toContain('Hello, async partial!');
    expect(response.text).toContain('data-layout="root"');
  });
});
