/**
 * A guest saved through an identity provider, in Chromium (issue 16): the "Continue with Acme"
 * button on the conversion form, the real provider's own login and consent pages, and the way
 * back to the same record, notes and all. The app listens at the APP_URL the provider knows.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../support.ts';
import { freePort, startProvider, type TestProvider } from '../oidc/provider.ts';
import { parseResumeToken } from '../visitors.ts';
import { click, flashes, JOURNEY_TIMEOUT, launchChromium, newVisitor, screenshot } from './chromium.ts';

let app: TestApp;
let provider: TestProvider;
let chromium: Browser;
beforeAll(async () => {
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  provider = await startProvider({ appUrl });
  [app, chromium] = await Promise.all([startApp(provider.env(), { port }), launchChromium()]);
});
afterAll(async () => { await chromium?.close(); await app?.close(); await provider?.close(); });

const notes = (page: Page) => page.locator('.notes .note p').allInnerTexts();

describe('saving a guest through an identity provider in Chromium', () => {
  it('goes from the conversion form to the provider\'s login and consent and back to the same record, notes and all', async () => {
    const page = await newVisitor(chromium, app);
    await page.goto('/try');
    await page.getByLabel('New note').fill('Walnut board, 40 cm');
    await click(page, page.getByRole('button', { name: 'Save note' }));
    const resume = (await page.context().cookies()).find((cookie) => cookie.name === 'gk.resume')!;
    const guestId = parseResumeToken(resume.value).id;

    await page.goto('/account');
    await click(page, page.locator('#save').getByRole('button', { name: 'Continue with Acme' }));
    expect(new URL(page.url()).origin).toBe(provider.issuer);
    await page.locator('input[name="login"]').fill('grace');
    await page.locator('input[name="password"]').fill('anything at all');
    await screenshot(page, 'provider-login');
    await click(page, page.getByRole('button', { name: 'Sign-in' }));
    await click(page, page.getByRole('button', { name: 'Continue' }));

    expect(page.url()).toBe(`${app.ctx.config.appUrl}/account`);
    expect(await flashes(page)).toEqual(['Your account is saved. Everything you did as a guest is in it.']);
    expect(await page.locator('.who .pill').innerText()).toBe('grace');
    expect(await page.locator('main').innerText()).toContain('Ways to sign in');
    await screenshot(page, 'account-saved-through-provider');
    expect(await app.sql('SELECT is_anonymous FROM users WHERE id = ?', guestId)).toEqual([{ is_anonymous: 0 }]);
    expect(await app.sql('SELECT account_id, provider, subject FROM identities')).toEqual([{ account_id: guestId, provider: 'acme', subject: 'grace' }]);
    await page.goto('/try');
    expect(await notes(page)).toEqual(['Walnut board, 40 cm']);
    await page.context().close();
  }, JOURNEY_TIMEOUT);
});
