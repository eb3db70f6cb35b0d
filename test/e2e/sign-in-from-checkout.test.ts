import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../support.ts';
import { click, flashes, JOURNEY_TIMEOUT, launchChromium, newVisitor, screenshot } from './chromium.ts';

let app: TestApp;
let chromium: Browser;
beforeAll(async () => { [app, chromium] = await Promise.all([startApp(), launchChromium()]); });
afterAll(async () => { await chromium?.close(); await app?.close(); });

const PASSWORD = 'owl-at-midnight';

/** Registers at /register in a browser of its own, with `productId` in the account's cart. */
async function existingAccount(email: string, productId: string, shot?: string): Promise<void> {
  const page = await newVisitor(chromium, app);
  await page.goto('/register');
  if (shot) await screenshot(page, shot);
  await page.locator('main').getByLabel('Email').fill(email);
  await page.locator('main').getByLabel('Password').fill(PASSWORD);
  await click(page, page.getByRole('button', { name: 'Create account' }));
  expect(await flashes(page)).toEqual(['Your account is ready.']);
  await page.goto(`/products/${productId}`);
  await click(page, page.getByRole('button', { name: 'Add to cart' }));
  await page.context().close();
}

async function addToCart(page: Page, productId: string, quantity: string): Promise<void> {
  await page.goto(`/products/${productId}`);
  await page.getByLabel('Quantity').fill(quantity);
  await click(page, page.getByRole('button', { name: 'Add to cart' }));
}

async function signInHere(page: Page, email: string): Promise<void> {
  await page.locator('main').getByLabel('Email').fill(email);
  await page.locator('main').getByLabel('Password').fill(PASSWORD);
  await click(page, page.locator('main').getByRole('button', { name: 'Sign in' }));
}

const summary = (page: Page) => page.locator('.summary-lines li').allInnerTexts();

describe('signing in to an existing account from checkout, in Chromium', () => {
  it('keeps a guest\'s cart: it joins the account\'s and checkout carries on', async () => {
    await existingAccount('owl@example.com', 'notebook', 'register');
    const page = await newVisitor(chromium, app);
    await addToCart(page, 'wool-throw', '2');
    await page.goto('/checkout');
    await click(page, page.getByRole('button', { name: 'Continue as Guest' }));
    expect(await page.locator('.who .pill-guest').innerText()).toBe('Guest');

    await click(page, page.locator('main').getByRole('link', { name: 'Sign in' }));
    expect(await page.locator('main .notice').innerText()).toContain('Sign in and your cart and notes come with you.');
    await signInHere(page, 'owl@example.com');
    expect(new URL(page.url()).pathname).toBe('/checkout');
    expect(await page.locator('.who .pill').innerText()).toBe('owl@example.com');
    expect((await summary(page)).map((line) => line.replace(/\s+/g, ' '))).toEqual(['1 × Dot-Grid Notebook $19.00', '2 × Wool Throw $178.00']);
    expect(await page.getByRole('button', { name: 'Place order' }).isEnabled()).toBe(true);
    await page.context().close();
  }, JOURNEY_TIMEOUT);

  it('keeps the cart of a visitor who uses the seed\'s "Sign In" link before checking out as a guest', async () => {
    await existingAccount('lark@example.com', 'candle');
    const page = await newVisitor(chromium, app);
    await addToCart(page, 'tea-tin', '3');
    await page.goto('/checkout');
    await click(page, page.locator('.checkout-options').getByRole('link', { name: 'Sign In' }));
    await signInHere(page, 'lark@example.com');
    expect(new URL(page.url()).pathname).toBe('/checkout');
    expect((await summary(page)).map((line) => line.replace(/\s+/g, ' '))).toEqual(['1 × Cedar Candle $24.00', '3 × Sencha Tea Tin $45.00']);
    await page.context().close();
  }, JOURNEY_TIMEOUT);
});
