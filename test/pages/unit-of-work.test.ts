/**
 * One unit of work per page render: the writes a render makes reach the database in order, all
 * together or not at all, and the answer goes out only after they are committed.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ShopError } from '../../src/shop/errors.ts';
import type { PageScope } from '../../src/pages/scope.ts';
import { firstRow, sessionCount, sessionIdIn, tamperSessions } from '../rows.ts';
import { startApp, type TestApp } from '../support.ts';
import { countRows, PASSWORD, RESUME_COOKIE, SESSION_COOKIE, startFixtureApp, textOf } from '../visitors.ts';
import { addToCart, sessionOf } from '../shop/shop.ts';

let app: TestApp;
afterEach(async () => { await app.close(); });

/** A notes service whose `add` waits a while before it writes, like a slow backend. */
function registerSlowNotes(fail = false): void {
  const { notes } = app.ctx.storage.shop;
  app.ctx.services.set('slow-notes', (scope: PageScope) => ({
    async add(body: string) {
      await delay(50);
      if (fail) throw new ShopError('invalid_note', 'body');
      return scope.work.run(notes.add(scope.visitor!.id, body, Date.now()));
    },
  }));
}

describe('a page that creates a guest and then throws', () => {
  it('answers 500 and leaves no guest row, no session and no cookie', async () => {
    app = await startFixtureApp();
    const response = await app.browser().get('/guest-then-throw');
    expect(response.status).toBe(500);
    expect(textOf(response.text, 'status')).toBe('500');
    expect(await countRows(app, 'accounts')).toBe(0);
    expect(await countRows(app, 'users')).toBe(0);
    expect(await countRows(app, 'auth_events')).toBe(0);
    expect(await sessionCount(app)).toBe(0);
    const cookies = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
    expect(cookies.filter((line) => line.startsWith(`${RESUME_COOKIE}=`) || line.startsWith(`${SESSION_COOKIE}=`))).toEqual([]);
  });
});

describe('a page that signs a new guest in and reads what they own', () => {
  it('finds nothing for a guest who wrote nothing yet, and what the render wrote once it did', async () => {
    app = await startFixtureApp();
    expect(textOf((await app.browser().get('/guest-notes')).text, 'count')).toBe('0');
    const added = await app.browser().get('/guest-notes?add=first+note');
    expect(textOf(added.text, 'count')).toBe('1');
    expect(textOf(added.text, 'notes')).toContain('first note');
  });
});

describe('a guest checkout whose cart move fails', () => {
  it('leaves nothing half-written: no guest, no cart rows, the cart still in the session, nobody signed in', async () => {
    app = await startApp();
    const browser = app.browser();
    await addToCart(browser, 'ember-mug', 2);
    // A quantity the cart_items CHECK refuses (1–99): the move onto the new guest fails at commit.
    await tamperSessions(app, (sess) => { (sess.cart as Record<string, number>)['ember-mug'] = 500; }, sessionIdIn(browser.cookie(SESSION_COOKIE)!));
    const response = await browser.submit('/checkout', { action: 'guest-checkout' });
    expect(response.status).toBe(500);
    expect(await countRows(app, 'accounts')).toBe(0);
    expect(await countRows(app, 'customers')).toBe(0);
    expect(await countRows(app, 'cart_items')).toBe(0);
    expect(await countRows(app, 'auth_events')).toBe(0);
    expect(browser.cookie(RESUME_COOKIE)).toBeUndefined();
    expect((await sessionOf(app, browser))?.auth).toBeUndefined();
    expect((await sessionOf(app, browser))?.cart).toEqual({ 'ember-mug': 500 });
  });
});

describe("a template's un-awaited service call", () => {
  it('is finished, in order after the guest it writes for, before the redirect is answered', async () => {
    app = await startFixtureApp();
    registerSlowNotes();
    const response = await app.browser().get('/unawaited?body=kept');
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe('/whoami');
    // Read the moment the redirect arrives: the note is already committed, with its guest.
    const notes = await app.sql('SELECT n.body, u.is_anonymous FROM notes n JOIN users u ON u.id = n.account_id');
    expect(notes).toEqual([{ body: 'kept', is_anonymous: 1 }]);
  });

  it('fails the render when it fails unseen, and nothing of the render is written', async () => {
    app = await startFixtureApp();
    registerSlowNotes(true);
    const response = await app.browser().get('/unawaited');
    expect(response.status).toBe(422);
    expect(await countRows(app, 'accounts')).toBe(0);
    expect(await countRows(app, 'notes')).toBe(0);
  });
});

describe("a helper the template forgets to await (convertGuest without await)", () => {
  it('is finished before the redirect: the guest is registered and this browser signed in to it', async () => {
    app = await startFixtureApp();
    const browser = app.browser();
    expect((await browser.get('/guest')).status).toBe(200);
    const response = await browser.submit('/convert-unawaited', { email: 'late@example.com', password: PASSWORD });
    expect(response.status).toBe(303);
    const row = await firstRow<{ is_anonymous: number }>(app, "SELECT is_anonymous FROM users WHERE email = 'late@example.com'");
    expect(row?.is_anonymous).toBe(0);
    const me = await browser.get('/whoami');
    expect(me.text).toContain('late@example.com');
  });
});
