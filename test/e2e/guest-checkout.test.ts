import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../support.ts';
import { click, flashes, JOURNEY_TIMEOUT, launchChromium, newVisitor, screenshot } from './chromium.ts';

let app: TestApp;
let chromium: Browser;
beforeAll(async () => { [app, chromium] = await Promise.all([startApp(), launchChromium()]); });
afterAll(async () => { await chromium?.close(); await app?.close(); });

async function addFromCatalogue(page: Page, name: string, quantity: string, shot?: string): Promise<void> {
  await page.goto('/');
  await click(page, page.getByRole('link', { name }));
  await page.getByLabel('Quantity').fill(quantity);
  if (shot) await screenshot(page, shot);
  await click(page, page.getByRole('button', { name: 'Add to cart' }));
  expect(new URL(page.url()).pathname).toBe('/cart');
}

describe('a new visitor, in Chromium', () => {
  it('buys two products as a guest, saves the account on the confirmation, signs out, signs back in and finds the order', async () => {
    const page = await newVisitor(chromium, app);
    await page.goto('/');
    expect(await page.locator('.product-card').count()).toBeGreaterThanOrEqual(12);
    await screenshot(page, 'home');

    await addFromCatalogue(page, 'Ember Mug', '2', 'product');
    await addFromCatalogue(page, 'Oak Cutting Board', '1');
    expect(await flashes(page)).toEqual(['Oak Cutting Board is in your cart.']);
    const rows = page.locator('.cart-table tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await page.locator('.cart-table .total').innerText()).toBe('$88.00');
    await screenshot(page, 'cart');

    await click(page, page.getByRole('link', { name: 'Checkout' }));
    await screenshot(page, 'checkout-signed-out');
    await click(page, page.getByRole('button', { name: 'Continue as Guest' }));
    expect(new URL(page.url()).pathname).toBe('/checkout');
    expect(await page.locator('.who .pill-guest').innerText()).toBe('Guest');
    await screenshot(page, 'checkout-guest');

    await page.getByLabel('Email').fill('grace@example.com');
    await page.getByLabel('Full name').fill('Grace Hopper');
    await page.getByLabel('Address').fill('1 Compiler Way');
    await page.getByLabel('City').fill('Arlington');
    await page.getByLabel('Postcode').fill('22201');
    await click(page, page.getByRole('button', { name: 'Place order' }));
    const orderPath = new URL(page.url()).pathname;
    expect(orderPath).toMatch(/^\/orders\/[\w-]+$/);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Order confirmed');
    expect(await flashes(page)).toEqual(['Thank you! Your order is placed.']);
    expect(await page.locator('address').innerText()).toContain('1 Compiler Way');
    await screenshot(page, 'order-guest');

    const save = page.locator('#save');
    await save.getByLabel('Email').fill('grace@example.com');
    await save.getByLabel('Password').fill('cobol-is-forever');
    await click(page, save.getByRole('button', { name: 'Save my account' }));
    expect(new URL(page.url()).pathname).toBe(orderPath);
    expect(await flashes(page)).toEqual(['Your account is saved. Everything you did as a guest is in it.']);
    expect(await page.locator('.who .pill').innerText()).toBe('grace@example.com');
    expect(await page.locator('#save').count()).toBe(0);
    await screenshot(page, 'order-registered');

    await click(page, page.locator('.site-header').getByRole('button', { name: 'Sign out' }));
    expect(new URL(page.url()).pathname).toBe('/');
    expect(await flashes(page)).toEqual(['You are signed out.']);
    expect(await page.locator('.who').getByRole('link', { name: 'Sign in' }).count()).toBe(1);
    expect((await page.goto(orderPath))?.url()).toContain('/login?next=');

    await page.goto('/login');
    await screenshot(page, 'login');
    await page.locator('main').getByLabel('Email').fill('grace@example.com');
    await page.locator('main').getByLabel('Password').fill('cobol-is-forever');
    await click(page, page.locator('main').getByRole('button', { name: 'Sign in' }));
    expect(await flashes(page)).toEqual(['Welcome back!']);

    await page.goto('/account');
    expect(await page.locator('main').innerText()).toContain('Signed in as grace@example.com');
    const order = page.locator(`.order-list a[href="${orderPath}"]`);
    expect(await order.count()).toBe(1);
    await screenshot(page, 'account-registered');
    await click(page, order);
    expect(await page.locator('.summary-lines').innerText()).toMatch(/2 × Ember Mug[\s\S]*1 × Oak Cutting Board/);
    await page.context().close();
  }, JOURNEY_TIMEOUT);

  it('sees the not-found page for an address that does not exist', async () => {
    const page = await newVisitor(chromium, app);
    const response = await page.goto('/products/unicorn-saddle');
    expect(response?.status()).toBe(404);
    expect(await page.title()).toBe('Page not found · guestkit shop');
    await screenshot(page, 'not-found');
    await click(page, page.getByRole('link', { name: 'Back to the shop' }));
    expect(new URL(page.url()).pathname).toBe('/');
    await page.context().close();
  });
});
