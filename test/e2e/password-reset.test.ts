import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailedLink, startMailApp, type MailApp } from '../auth/mail-links.ts';
import { PASSWORD, register } from '../visitors.ts';
import { click, errorTiedTo, flashes, JOURNEY_TIMEOUT, launchChromium, newVisitor, screenshot } from './chromium.ts';

let mail: MailApp;
let chromium: Browser;
beforeAll(async () => { [mail, chromium] = await Promise.all([startMailApp(), launchChromium()]); });
afterAll(async () => { await chromium?.close(); await mail?.close(); });

describe('"Forgot your password?", in Chromium', () => {
  it('asks for a link on one browser, sets a new password from the mail on another, and the old password stops working', async () => {
    const { app, smtp } = mail;
    await register(app.browser(), 'wren@example.com');

    const asking = await newVisitor(chromium, app);
    await asking.goto('/login');
    await click(asking, asking.getByRole('link', { name: 'Forgot your password?' }));
    expect(new URL(asking.url()).pathname).toBe('/forgot-password');
    await asking.locator('main').getByLabel('Email').fill('wren@example.com');
    await screenshot(asking, 'forgot-password');
    await click(asking, asking.getByRole('button', { name: 'Send the link' }));
    expect(await asking.locator('main .notice').innerText()).toContain('a link to set a new password is on its way there');
    await screenshot(asking, 'forgot-password-sent');

    // The mail's link, opened on another device: a browser that never saw this site.
    const link = await mailedLink(smtp, 'wren@example.com', '/reset-password');
    const phone = await newVisitor(chromium, app);
    await phone.goto(link.path);
    expect(await phone.locator('main h1').innerText()).toBe('Set a new password');
    const password = phone.getByLabel('New password');
    const confirmation = phone.getByLabel('The same password again');
    await password.fill('short');
    await confirmation.fill('something else');
    await click(phone, phone.getByRole('button', { name: 'Set my new password' }));
    expect(await errorTiedTo(password)).toBe('Use at least 8 characters for your password.');
    expect(await errorTiedTo(confirmation)).toBe('The two passwords are not the same.');
    await screenshot(phone, 'reset-password-errors');

    await password.fill('a wren at dawn');
    await confirmation.fill('a wren at dawn');
    await click(phone, phone.getByRole('button', { name: 'Set my new password' }));
    expect(new URL(phone.url()).pathname).toBe('/account');
    expect(await flashes(phone)).toEqual(['Your new password is set, and you are signed in. Every other device was signed out.']);
    expect(await phone.locator('.who .pill').innerText()).toBe('wren@example.com');

    expect((await app.browser().submit('/login', { email: 'wren@example.com', password: PASSWORD })).status).toBe(401);
    expect((await app.browser().submit('/login', { email: 'wren@example.com', password: 'a wren at dawn' })).status).toBe(303);

    // The same link a second time: a readable page that offers a new one.
    const again = await newVisitor(chromium, app);
    const response = await again.goto(link.path);
    expect(response?.status()).toBe(400);
    expect(await again.locator('main h1').innerText()).toBe('This link has been used');
    await screenshot(again, 'reset-password-used');
    await click(again, again.getByRole('link', { name: 'Send me a new link' }));
    expect(new URL(again.url()).pathname).toBe('/forgot-password');
    for (const page of [asking, phone, again]) await page.context().close();
  }, JOURNEY_TIMEOUT);
});
