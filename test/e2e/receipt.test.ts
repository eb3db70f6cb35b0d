import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkIn, startSmtp, type SmtpHarness } from '../mail/smtp.ts';
import { startApp, type TestApp } from '../support.ts';
import { click, flashes, JOURNEY_TIMEOUT, launchChromium, newVisitor, screenshot } from './chromium.ts';

const APP_URL = 'https://shop.example';

let smtp: SmtpHarness;
let app: TestApp;
let chromium: Browser;
beforeAll(async () => {
  smtp = await startSmtp();
  [app, chromium] = await Promise.all([startApp({ ...smtp.env, APP_URL }), launchChromium()]);
});
afterAll(async () => {
  await chromium?.close();
  await app?.close();
  await smtp?.close();
});

describe('a guest\'s receipt, in Chromium', () => {
  it('leads from the mail to the order on another device, where an account with only a password keeps it', async () => {
    const shop = await newVisitor(chromium, app);
    await shop.goto('/products/desk-lamp');
    await click(shop, shop.getByRole('button', { name: 'Add to cart' }));
    await shop.goto('/checkout');
    await click(shop, shop.getByRole('button', { name: 'Continue as Guest' }));
    await shop.getByLabel('Email').fill('katherine@example.com');
    await shop.getByLabel('Full name').fill('Katherine Johnson');
    await shop.getByLabel('Address').fill('1 Orbit Road');
    await shop.getByLabel('City').fill('Hampton');
    await shop.getByLabel('Postcode').fill('23666');
    await screenshot(shop, 'checkout-receipt-email');
    await click(shop, shop.getByRole('button', { name: 'Place order' }));
    const orderPath = new URL(shop.url()).pathname;
    // On the device that placed it, the conversion form already holds the receipt's address.
    expect(await shop.locator('#save').getByLabel('Email').inputValue()).toBe('katherine@example.com');

    const receipt = await smtp.waitForMail('katherine@example.com');
    expect(receipt.text).toContain('1 × Brass Desk Lamp: $119.00');
    const link = linkIn(receipt.text, `${APP_URL}/orders/`);
    expect(new URL(link).pathname).toBe(orderPath);

    // Another device: the link, opened where nobody ever signed in.
    const phone = await newVisitor(chromium, app);
    await phone.goto(link.slice(APP_URL.length));
    expect(await phone.getByRole('heading', { level: 1 }).innerText()).toBe('Your order');
    expect(await phone.locator('address').innerText()).toContain('1 Orbit Road');
    const account = phone.locator('#account');
    expect(await account.getByLabel('Email').inputValue()).toBe('katherine@example.com');
    expect(await account.getByLabel('Email').getAttribute('readonly')).not.toBeNull();
    await screenshot(phone, 'order-link-other-device');
    await account.getByLabel('Password').fill('hidden-figures');
    await click(phone, account.getByRole('button', { name: 'Create my account' }));
    expect(new URL(phone.url()).pathname).toBe(orderPath);
    expect(await flashes(phone)).toEqual(['Your account is ready, and this order is in it.']);
    expect(await phone.locator('.who .pill').innerText()).toBe('katherine@example.com');

    await phone.goto('/account');
    expect(await phone.locator(`.order-list a[href="${orderPath}"]`).count()).toBe(1);
    await screenshot(phone, 'account-from-receipt');
    await phone.context().close();
    await shop.context().close();
  }, JOURNEY_TIMEOUT);

  it('sees a readable 400 page for a link cut short, with a way to ask for a new one', async () => {
    const page = await newVisitor(chromium, app);
    const response = await page.goto('/orders/some-order?key=cut-short');
    expect(response?.status()).toBe(400);
    expect(await page.title()).toBe('This order link does not work · guestkit shop');
    expect(await page.getByRole('button', { name: 'Send me a new link' }).count()).toBe(1);
    await screenshot(page, 'order-link-bad');
    await page.context().close();
  });
});
