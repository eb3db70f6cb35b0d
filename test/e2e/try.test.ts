import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../support.ts';
import { click, flashes, JOURNEY_TIMEOUT, launchChromium, newVisitor, recordNavigations, screenshot } from './chromium.ts';

let app: TestApp;
let chromium: Browser;
beforeAll(async () => { [app, chromium] = await Promise.all([startApp(), launchChromium()]); });
afterAll(async () => { await chromium?.close(); await app?.close(); });

async function saveNote(page: Page, text: string): Promise<void> {
  await page.getByLabel('New note').fill(text);
  await click(page, page.getByRole('button', { name: 'Save note' }));
}

const notes = (page: Page) => page.locator('.notes .note p').allInnerTexts();

describe('/try in Chromium', () => {
  it('signs a new visitor in as a guest with exactly one reload, and keeps their notes through a browser restart and conversion', async () => {
    const page = await newVisitor(chromium, app);
    const navigations = recordNavigations(page);
    const response = await page.goto('/try');
    expect(response?.status()).toBe(200);
    expect(navigations).toEqual([{ status: 302, url: '/try' }, { status: 200, url: '/try' }]);
    expect(await page.locator('.who .pill-guest').innerText()).toBe('Guest');
    expect(await page.locator('aside.banner').innerText()).toContain('You are trying this as a guest.');

    await saveNote(page, 'Ask about the walnut board');
    await saveNote(page, 'Compare lamps');
    expect(await notes(page)).toEqual(['Compare lamps', 'Ask about the walnut board']);
    await screenshot(page, 'try');
    await page.goto('/account');
    expect(await page.locator('main').innerText()).toContain('You are a guest.');
    await screenshot(page, 'account-guest');

    // The browser restarts: session cookies are gone, the persistent resume cookie is not.
    const cookies = await page.context().cookies();
    const resume = cookies.filter((cookie) => cookie.name === 'gk.resume');
    expect(resume).toHaveLength(1);
    expect(resume[0]!.expires).toBeGreaterThan(Date.now() / 1000 + 86_400);
    await page.context().close();
    const restarted = await newVisitor(chromium, app, resume);
    const afterRestart = recordNavigations(restarted);
    await restarted.goto('/try');
    expect(afterRestart).toEqual([{ status: 200, url: '/try' }]);
    expect(await notes(restarted)).toEqual(['Compare lamps', 'Ask about the walnut board']);

    await click(restarted, restarted.locator('aside.banner').getByRole('link', { name: 'Save your work' }));
    const save = restarted.locator('#save');
    await save.getByLabel('Email').fill('tryer@example.com');
    await save.getByLabel('Password').fill('notes-are-mine');
    await click(restarted, save.getByRole('button', { name: 'Save my account' }));
    expect(new URL(restarted.url()).pathname).toBe('/try');
    expect(await flashes(restarted)).toEqual(['Your account is saved. Everything you did as a guest is in it.']);
    expect(await restarted.locator('aside.banner').count()).toBe(0);
    expect(await notes(restarted)).toEqual(['Compare lamps', 'Ask about the walnut board']);
    await restarted.context().close();

    const elsewhere = await newVisitor(chromium, app);
    await elsewhere.goto('/login');
    await elsewhere.locator('main').getByLabel('Email').fill('tryer@example.com');
    await elsewhere.locator('main').getByLabel('Password').fill('notes-are-mine');
    await click(elsewhere, elsewhere.locator('main').getByRole('button', { name: 'Sign in' }));
    await elsewhere.goto('/try');
    expect(await notes(elsewhere)).toEqual(['Compare lamps', 'Ask about the walnut board']);
    await elsewhere.context().close();
  }, JOURNEY_TIMEOUT);

  it('brings a guest back from the resume cookie when the server has lost every session row', async () => {
    const page = await newVisitor(chromium, app);
    await page.goto('/try');
    await saveNote(page, 'Still here?');
    app.sessionDb.prepare('DELETE FROM sessions').run();
    const navigations = recordNavigations(page);
    await page.reload();
    expect(navigations).toEqual([{ status: 200, url: '/try' }]);
    expect(await notes(page)).toEqual(['Still here?']);
    expect(await page.locator('.who .pill-guest').innerText()).toBe('Guest');
    await page.context().close();
  });
});
