/**
 * Real Chromium (Debian's package: Playwright's own browser download cannot work on these
 * machines) driving the real app. One browser per file, a fresh context (cookie jar) per visitor.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page, type Response } from 'playwright-core';
import { BROWSER_UA, type TestApp } from '../support.ts';

export const SCREENSHOTS = 'test-results/screenshots';

/** A whole journey takes a few seconds; on a busy 2-core CI machine give it room. */
export const JOURNEY_TIMEOUT = 60_000;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/**
 * A new visitor. Headless Chromium says "HeadlessChrome" in its User-Agent, which isbot (rightly)
 * calls a bot, and bots never get guests: present the desktop Chrome a person would use.
 */
export async function newVisitor(browser: Browser, app: TestApp, cookies: Parameters<BrowserContext['addCookies']>[0] = []): Promise<Page> {
  const context = await browser.newContext({ baseURL: app.url, userAgent: BROWSER_UA, viewport: { width: 1280, height: 900 } });
  if (cookies.length) await context.addCookies(cookies);
  return context.newPage();
}

/**
 * Runs `action` (a click that submits a form or follows a link) and waits until the page it
 * leads to has loaded, redirects included; returns that page's response.
 */
export async function andWait(page: Page, action: () => Promise<unknown>): Promise<Response | null> {
  const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), action()]);
  return response;
}

export function click(page: Page, locator: Locator): Promise<Response | null> {
  return andWait(page, () => locator.click());
}

/** Every response to a top-level navigation of `page`, in order (redirects included). */
export function recordNavigations(page: Page): Array<{ status: number; url: string }> {
  const seen: Array<{ status: number; url: string }> = [];
  page.on('response', (response) => {
    const request = response.request();
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) {
      seen.push({ status: response.status(), url: new URL(response.url()).pathname + new URL(response.url()).search });
    }
  });
  return seen;
}

/** Saves a full-page screenshot as test-results/screenshots/<name>.png, for a person to look at. */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** The flash messages at the top of the page. */
export function flashes(page: Page): Promise<string[]> {
  return page.locator('.flashes .flash').allInnerTexts();
}

/**
 * The error tied to an input by its aria-describedby, or null when it has none. The element must
 * sit in the input's own `.field` (next to it on screen), not elsewhere on the page.
 */
export async function errorTiedTo(input: Locator): Promise<string | null> {
  const id = await input.getAttribute('aria-describedby');
  if (!id) return null;
  const field = input.locator('xpath=ancestor::div[contains(concat(" ", @class, " "), " field ")][1]');
  const inField = field.locator(`[id="${id}"]`);
  if (await inField.count() !== 1) throw new Error(`#${id} is not in the field of the input it describes`);
  return inField.innerText();
}
