/**
 * "Continue with <Label>" (issue 16): a ready partial on sign-in, registration and the conversion
 * form, each button a POST form with its CSRF token, never a link; with no provider configured,
 * no buttons and no routes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../../support.ts';
import { APP_URL, formFields } from '../../oidc/journeys.ts';
import { startProvider, type TestProvider } from '../../oidc/provider.ts';
import { becomeGuest, register } from '../../visitors.ts';

let provider: TestProvider;
beforeAll(async () => { provider = await startProvider({ appUrl: APP_URL, names: ['acme', 'globex'] }); });
afterAll(() => provider?.close());

let app: TestApp;
afterEach(() => app?.close());

/** The Content-Security-Policy's form-action sources of a page. */
async function formAction(path: string): Promise<string[]> {
  const policy = String((await app.browser().get(path)).headers['content-security-policy']);
  return /form-action ([^;]+)/.exec(policy)![1]!.trim().split(/\s+/);
}

describe('with identity providers configured', () => {
  it.each(['/login', '/register'])('%s has a "Continue with" POST form per provider, with its CSRF token and next', async (path) => {
    app = await startApp(provider.env({ acme: {}, globex: { LABEL: 'Globex Single Sign-On' } }));
    const page = await app.browser().get(`${path}?next=%2Fcheckout`);
    expect(page.text).toContain('Continue with Acme</button>');
    expect(page.text).toContain('Continue with Globex Single Sign-On</button>');
    for (const name of ['acme', 'globex']) {
      expect(formFields(page.text, `/auth/${name}/start`)).toEqual({ _csrf: expect.any(String), next: '/checkout' });
    }
    expect(page.text).not.toMatch(/<a [^>]*href="\/auth\//);
  });

  it('puts the buttons in a guest\'s conversion form, coming back to the page it is on', async () => {
    app = await startApp(provider.env());
    const browser = app.browser();
    await becomeGuest(browser);
    const page = await browser.get('/try');
    expect(page.text).toMatch(/id="save"[\s\S]*Continue with Acme/);
    expect(formFields(page.text, '/auth/acme/start')).toEqual({ _csrf: expect.any(String), next: '/try' });
  });

  it('offers "Link Acme" on a registered account\'s page', async () => {
    app = await startApp(provider.env());
    const browser = app.browser();
    await register(browser, 'member@example.com');
    const page = await browser.get('/account');
    expect(page.text).toContain('Link Acme</button>');
    expect(formFields(page.text, '/auth/acme/start')).toEqual({ _csrf: expect.any(String), next: '/account', intent: 'link' });
  });

  it('lets forms lead to the provider\'s origin (the CSP\'s form-action), and to no other', async () => {
    app = await startApp(provider.env());
    expect(await formAction('/login')).toEqual(["'self'", provider.issuer]);
  });
});

describe('with no identity provider configured', () => {
  it('shows no button and serves no route', async () => {
    app = await startApp();
    const browser = app.browser();
    const login = await browser.get('/login');
    expect(login.text).not.toContain('Continue with');
    await becomeGuest(browser);
    expect((await browser.get('/account')).text).not.toContain('Continue with');
    const token = /name="_csrf" value="([^"]+)"/.exec((await browser.get('/account')).text)![1]!;
    expect((await browser.post('/auth/acme/start', { _csrf: token })).status).toBe(404);
    expect((await browser.get('/auth/acme/callback?code=x&state=y')).status).toBe(404);
    expect(await formAction('/login')).toEqual(["'self'"]);
  });
});
