/**
 * 404 and 500 are pages of the site, rendered in its layout. A template error answers with the
 * 500 page: details (file, line, message) only in development, always in the log.
 *
 *   broken.eta, line 3:           <p><%= missing.property %></p>   (missing is undefined)
 *   unknown-service.eta, line 1:  <% const service = resolve('unknown') %>
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../support.ts';
import { HTTPS, PRODUCTION_ENV, startFixtureSite } from './fixture-site.ts';


interface LoggedApp { app: TestApp; logs: string[] }

async function startLogged(env: Record<string, string>): Promise<LoggedApp> {
  const logs: string[] = [];
  return { app: await startFixtureSite(env, { log: (message) => logs.push(message) }), logs };
}

let test: LoggedApp;
let development: LoggedApp;
let production: LoggedApp;
beforeAll(async () => {
  [test, development, production] = await Promise.all([
    startLogged({}), startLogged({ NODE_ENV: 'development' }), startLogged(PRODUCTION_ENV),
  ]);
});
afterAll(async () => {
  await Promise.all([test.app.close(), development.app.close(), production.app.close()]);
});

describe('the 404 page', () => {
  it('is the site\'s _404.eta, inside its layout, with status 404', async () => {
    const response = await test.app.browser().get('/no-such-page');
    expect(response.status).toBe(404);
    expect(response.text).toContain('Fixture 404: nothing at this address');
    expect(response.text).toContain('data-layout="root"');
    expect(response.text).toContain('<title>Not here</title>');
  });

  it('is the shop\'s own page in the shop\'s layout for the real site', async () => {
    const shop = await startApp();
    try {
      const response = await shop.browser().get('/no-such-page');
      expect(response.status).toBe(404);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.text).toContain('<title>Page not found · guestkit shop</title>');
      expect(response.text).toContain('Back to the shop');
    } finally {
      await shop.close();
    }
  });
});

describe('a template that throws', () => {
  it('answers 500 with the error page inside the layout', async () => {
    const response = await test.app.browser().get('/broken');
    expect(response.status).toBe(500);
    expect(response.text).toContain('data-layout="root"');
    expect(response.text).toContain('<h1 class="error-title">Something went wrong</h1>');
    // Nothing of the failed page leaks into the error page.
    expect(response.text).not.toContain('Before the error');
  });

  for (const mode of ['test', 'production'] as const) {
    it(`shows no file, line, message or stack in ${mode}`, async () => {
      const { app } = mode === 'test' ? test : production;
      const response = await app.browser().get('/broken').set(HTTPS);
      expect(response.status).toBe(500);
      expect(response.text).not.toMatch(/broken\.eta|Cannot read properties|missing\.property|error-detail|\n\s+at /);
    });
  }

  it('shows the file, the line and the message in development', async () => {
    const response = await development.app.browser().get('/broken');
    expect(response.status).toBe(500);
    expect(response.text).toContain('class="error-detail"');
    expect(response.text).toContain('broken.eta:3');
    expect(response.text).toContain('Cannot read properties of undefined (reading &#39;property&#39;)');
  });

  it('logs the file, the line and the message, whatever the mode', async () => {
    for (const { app, logs } of [test, production]) {
      logs.length = 0;
      await app.browser().get('/broken').set(HTTPS);
      const logged = logs.join('\n');
      expect(logged).toContain('broken.eta:3');
      expect(logged).toContain('GET /broken');
      expect(logged).toContain("Cannot read properties of undefined (reading 'property')");
    }
  });
});

describe("resolve('unknown')", () => {
  it('answers the 500 page, naming the service only in development', async () => {
    const quiet = await test.app.browser().get('/unknown-service');
    expect(quiet.status).toBe(500);
    expect(quiet.text).not.toContain('unknown');

    const detailed = await development.app.browser().get('/unknown-service');
    expect(detailed.status).toBe(500);
    expect(detailed.text).toContain('resolve(&#39;unknown&#39;): no service with that name is registered');
    expect(detailed.text).toContain('unknown-service.eta:1');
  });

  it('logs which name was not registered, with the file and line', async () => {
    test.logs.length = 0;
    await test.app.browser().get('/unknown-service');
    expect(test.logs.join('\n')).toMatch(/unknown-service\.eta:1[\s\S]*resolve\('unknown'\): no service with that name is registered/);
  });
});
