import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '../visitors.ts';
import { startApp, type TestApp } from '../support.ts';
import { click, errorTiedTo, flashes, launchChromium, newVisitor, screenshot } from './chromium.ts';

let app: TestApp;
let chromium: Browser;
let guest: Page;
beforeAll(async () => {
  [app, chromium] = await Promise.all([startApp(), launchChromium()]);
  await register(app.browser(), 'taken@example.com');
  // One guest tries every mistake in turn on the account page's "Save your account" form.
  guest = await newVisitor(chromium, app);
  await guest.goto('/try');
  await guest.goto('/account');
});
afterAll(async () => { await chromium?.close(); await app?.close(); });

const form = () => guest.locator('#save');
const emailInput = () => form().getByLabel('Email');
const passwordInput = () => form().getByLabel('Password');

async function convert(email: string, password: string): Promise<void> {
  await emailInput().fill(email);
  await passwordInput().fill(password);
  await click(guest, form().getByRole('button', { name: 'Save my account' }));
}

describe('the "Save your account" form in Chromium', () => {
  it.each([
    ['an invalid email', 'grace@', 'long enough password', 'email', 'Enter a valid email address, like name@example.com.'],
    ['an email already in use', 'taken@example.com', 'long enough password', 'email', 'An account with this email already exists. Sign in instead.'],
    ['a password that is too short', 'grace@example.com', 'short', 'password', 'Use at least 8 characters for your password.'],
    // 37 two-byte characters: 74 bytes, past bcrypt's 72.
    ['a password that is too long', 'grace@example.com', 'é'.repeat(37), 'password', 'Use at most 72 bytes for your password (fewer if it has accents or emoji).'],
  ])('shows %s next to the right field and keeps the email typed', async (mistake, email, password, field, message) => {
    await convert(email, password);
    const [wrong, right] = field === 'email' ? [emailInput(), passwordInput()] : [passwordInput(), emailInput()];
    expect(await errorTiedTo(wrong)).toBe(message);
    expect(await wrong.getAttribute('aria-invalid')).toBe('true');
    expect(await errorTiedTo(right)).toBeNull();
    expect(await emailInput().inputValue()).toBe(email);
    expect(await passwordInput().inputValue()).toBe('');
    expect(await guest.locator('.who .pill-guest').innerText()).toBe('Guest');
    await screenshot(guest, `account-guest-error-${mistake.replace(/\W+/g, '-')}`);
  });

  it('then saves the account once the mistakes are fixed', async () => {
    await convert('grace@example.com', 'long enough password');
    expect(await flashes(guest)).toEqual(['Your account is saved. Everything you did as a guest is in it.']);
    expect(await guest.locator('.who .pill').innerText()).toBe('grace@example.com');
    expect(await guest.locator('#save').count()).toBe(0);
  });
});
