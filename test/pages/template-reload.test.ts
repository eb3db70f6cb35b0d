/**
 * Template authors edit pages while the development server runs and see the change on reload;
 * production compiles each template once and keeps it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TestApp } from '../support.ts';
import { FIXTURE_PAGES, HTTPS, PRODUCTION_ENV, startFixtureSite } from './fixture-site.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => { for (const cleanup of cleanups.splice(0)) await cleanup(); });

/** The fixture site on a copy of its pages, so a test can edit them. */
async function startOnCopy(env: Record<string, string>): Promise<{ app: TestApp; pages: string }> {
  const pages = fs.mkdtempSync(path.join(os.tmpdir(), 'guestkit-pages-'));
  fs.cpSync(FIXTURE_PAGES, pages, { recursive: true });
  const app = await startFixtureSite(env, { pagesDir: pages });
  cleanups.push(async () => {
    await app.close();
    fs.rmSync(pages, { recursive: true, force: true });
  });
  return { app, pages };
}

describe('in development', () => {
  it('shows an edited page on the next request', async () => {
    const { app, pages } = await startOnCopy({ NODE_ENV: 'development' });
    const browser = app.browser();
    expect((await browser.get('/about')).text).toContain('About page');
    fs.writeFileSync(path.join(pages, 'about.eta'), '<h1>Edited about page</h1>\n');
    expect((await browser.get('/about')).text).toContain('Edited about page');
  });

  it('routes a page file added while the server runs', async () => {
    const { app, pages } = await startOnCopy({ NODE_ENV: 'development' });
    const browser = app.browser();
    expect((await browser.get('/contact')).status).toBe(404);
    fs.writeFileSync(path.join(pages, 'contact.eta'), '<h1>Contact us</h1>\n');
    const response = await browser.get('/contact');
    expect(response.status).toBe(200);
    expect(response.text).toContain('Contact us');
  });
});

describe('in production', () => {
  it('keeps serving the template it compiled first', async () => {
    const { app, pages } = await startOnCopy(PRODUCTION_ENV);
    const browser = app.browser();
    expect((await browser.get('/about').set(HTTPS)).text).toContain('About page');
    fs.writeFileSync(path.join(pages, 'about.eta'), '<h1>Edited about page</h1>\n');
    const again = await browser.get('/about').set(HTTPS);
    expect(again.text).toContain('About page');
    expect(again.text).not.toContain('Edited');
  });
});
