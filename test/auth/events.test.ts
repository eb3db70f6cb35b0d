import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scalar } from '../rows.ts';
import { guestWithCart, startApp, type TestApp } from '../support.ts';
import { becomeGuest, eventsOf, parseResumeToken, PASSWORD, register, RESUME_COOKIE } from '../visitors.ts';

let app: TestApp;
let startedAt: number;
beforeEach(async () => {
  app = await startApp();
  startedAt = Date.now();
});
afterEach(async () => { await app.close(); });

/** One auth_events row as the issue names its columns, with a created_at from this test. */
function event(type: string, recordId: string | null, collection: string | null) {
  return expect.objectContaining({ type, record_id: recordId, collection, created_at: expect.toSatisfy((at: number) => at >= startedAt && at <= Date.now()) });
}

describe('auth_events', () => {
  it('records guest_created with the record and its collection', async () => {
    const users = await becomeGuest(app.browser());
    const checkout = app.browser();
    await guestWithCart(checkout);
    const customers = parseResumeToken(checkout.cookie(RESUME_COOKIE)!).id;
    expect(await eventsOf(app, 'guest_created')).toEqual([event('guest_created', users, 'users'), event('guest_created', customers, 'customers')]);
  });

  it('records guest_converted once, when the guest becomes an account', async () => {
    const browser = app.browser();
    const id = await becomeGuest(browser);
    await browser.submit('/account', { action: 'convert-guest', email: 'ada@example.com', password: PASSWORD });
    const again = await browser.submit('/try', { action: 'convert-guest', email: 'other@example.com', password: PASSWORD });
    expect(again.status).toBe(400);
    expect(await eventsOf(app, 'guest_converted')).toEqual([event('guest_converted', id, 'users')]);
  });

  it('records guest_merged when a guest signs in to an account', async () => {
    await register(app.browser(), 'owner@example.com');
    const browser = app.browser();
    const id = await becomeGuest(browser);
    await browser.submit('/login', { email: 'owner@example.com', password: PASSWORD });
    expect(await eventsOf(app, 'guest_merged')).toEqual([event('guest_merged', id, 'users')]);
  });

  it('records login_failed, naming the account only when the email exists', async () => {
    await register(app.browser(), 'owner@example.com');
    const ownerId = (await scalar<string>(app, 'SELECT id FROM users'))!;
    await app.browser().submit('/login', { email: 'owner@example.com', password: 'not the password' });
    await app.browser().submit('/login', { email: 'nobody@example.com', password: 'not the password' });
    expect(await eventsOf(app, 'login_failed')).toEqual([event('login_failed', ownerId, 'users'), event('login_failed', null, null)]);
  });

  it('records signed_out for guests and accounts', async () => {
    const guest = app.browser();
    const guestId = await becomeGuest(guest);
    await guest.submit('/logout');
    const owner = app.browser();
    await register(owner, 'owner@example.com');
    const ownerId = (await scalar<string>(app, 'SELECT id FROM users WHERE NOT is_anonymous'))!;
    await owner.submit('/logout');
    expect(await eventsOf(app, 'signed_out')).toEqual([event('signed_out', guestId, 'users'), event('signed_out', ownerId, 'users')]);
  });
});
