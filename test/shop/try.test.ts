import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { becomeGuest, getWithCookies, PASSWORD, register, RESUME_COOKIE } from '../visitors.ts';
import { column, firstRow, scalar } from '../rows.ts';
import { startApp, type Browser, type TestApp } from '../support.ts';
import { countRowsWhere, errorFor, guestIdOf, seedSection } from './shop.ts';

let app: TestApp;
beforeAll(async () => { app = await startApp(); });
afterAll(async () => { await app.close(); });

/** Seed 003's "Try Before You Buy" example, exactly as the seed prints it. */
const seedTryBeforeYouBuy = () => seedSection('Try Before You Buy', 'Important Notes');

function addNote(browser: Browser, body: string) {
  return browser.submit('/try', { action: 'add-note', body });
}

function notesOf(accountId: string): Promise<string[]> {
  return column<string>(app, 'SELECT body FROM notes WHERE account_id = ? ORDER BY id', accountId);
}

describe('GET /try', () => {
  it('starts with the seed\'s try-before-you-buy example verbatim', () => {
    expect(fs.readFileSync('views/pages/try.eta', 'utf8').startsWith(seedTryBeforeYouBuy())).toBe(true);
  });

  it('signs a new visitor in as a guest and reloads the page once', async () => {
    const browser = app.browser();
    const first = await browser.get('/try');
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe('/try');
    const guestId = guestIdOf(browser);
    expect(await firstRow(app, 'SELECT is_anonymous FROM users WHERE id = ?', guestId)).toEqual({ is_anonymous: 1 });
    const reloaded = await browser.get('/try');
    expect(reloaded.status).toBe(200);
    expect(reloaded.text).toContain('<h1>Try it: your notes</h1>');
  });

  it('keeps the query string on the reload', async () => {
    const response = await app.browser().get('/try?from=newsletter');
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe('/try?from=newsletter');
  });

  it('shows a guest the banner inviting them to save their work, linked to the form on the page', async () => {
    const browser = app.browser();
    await becomeGuest(browser);
    const response = await browser.get('/try');
    expect(response.text).toMatch(/<aside class="banner"[^>]*>[\s\S]*Save your account to keep them anywhere\.[\s\S]*href="#save"/);
    expect(response.text).toContain('<section class="convert card" id="save"');
  });

  it('shows a registered user their notes without the banner or the form', async () => {
    const browser = app.browser();
    await register(browser, 'note-taker@example.com');
    const response = await browser.get('/try');
    expect(response.status).toBe(200);
    expect(response.text).not.toContain('class="banner"');
    expect(response.text).not.toContain('id="save"');
    expect(response.text).toContain('No notes yet.');
  });

  it('gives a crawler the page without creating a guest or redirecting', async () => {
    const before = await countRowsWhere(app, 'accounts', 'TRUE');
    const response = await getWithCookies(app, '/try', {}).set('User-Agent', 'Googlebot/2.1 (+http://www.google.com/bot.html)');
    expect(response.status).toBe(200);
    expect(response.text).toContain('Guest access is not available right now.');
    expect(await countRowsWhere(app, 'accounts', 'TRUE')).toBe(before);
  });
});

describe('POST /try (notes)', () => {
  it('saves a note under the guest\'s id and lists it, newest first', async () => {
    const browser = app.browser();
    const guestId = await becomeGuest(browser);
    const saved = await addNote(browser, '  Try the oak board  ');
    expect(saved.status).toBe(303);
    expect(saved.headers.location).toBe('/try');
    await addNote(browser, 'Then the candle');
    expect(await notesOf(guestId)).toEqual(['Try the oak board', 'Then the candle']);
    const page = await browser.get('/try');
    expect(page.text).toMatch(/<p>Then the candle<\/p>[\s\S]*<p>Try the oak board<\/p>/);
  });

  it.each([['empty', '   '], ['longer than 2,000 characters', 'x'.repeat(2001)]])(
    'refuses a note that is %s with 422 and the error next to the field', async (_, body) => {
      const browser = app.browser();
      const guestId = await becomeGuest(browser);
      const response = await addNote(browser, body);
      expect(response.status).toBe(422);
      expect(errorFor(response.text, 'body')).toBe('Notes need some text, at most 2,000 characters.');
      expect(await notesOf(guestId)).toEqual([]);
    });

  it('deletes a note of one\'s own, and never another visitor\'s', async () => {
    const owner = app.browser();
    const ownerId = await becomeGuest(owner);
    await addNote(owner, 'Mine');
    const noteId = String(await scalar<number>(app, 'SELECT id FROM notes WHERE account_id = ?', ownerId));
    const other = app.browser();
    await becomeGuest(other);
    await other.submit('/try', { action: 'delete-note', noteId });
    expect(await notesOf(ownerId)).toEqual(['Mine']);
    const deleted = await owner.submit('/try', { action: 'delete-note', noteId });
    expect(deleted.status).toBe(303);
    expect(await notesOf(ownerId)).toEqual([]);
  });

  it('answers 403 without the CSRF token and saves nothing', async () => {
    const browser = app.browser();
    const guestId = await becomeGuest(browser);
    const response = await browser.post('/try', { action: 'add-note', body: 'forged' });
    expect(response.status).toBe(403);
    expect(await notesOf(guestId)).toEqual([]);
  });
});

describe('a guest\'s notes over time', () => {
  it('survive the session being lost, while the resume cookie lives', async () => {
    const browser = app.browser();
    const guestId = await becomeGuest(browser);
    await addNote(browser, 'Remember me');
    await app.ctx.sessions.index.deleteForAccount(guestId);
    const response = await getWithCookies(app, '/try', { [RESUME_COOKIE]: browser.cookie(RESUME_COOKIE)! });
    expect(response.status).toBe(200);
    expect(response.text).toContain('<p>Remember me</p>');
  });

  it('stay with the account when the guest saves it on /try, and come back at the next sign-in', async () => {
    const browser = app.browser();
    const guestId = await becomeGuest(browser);
    await addNote(browser, 'Keep this');
    const converted = await browser.submit('/try', { action: 'convert-guest', email: 'keeper@example.com', password: PASSWORD });
    expect(converted.status).toBe(303);
    expect(converted.headers.location).toBe('/try');
    expect(await notesOf(guestId)).toEqual(['Keep this']);
    const later = app.browser();
    await later.submit('/login', { email: 'keeper@example.com', password: PASSWORD });
    expect((await later.get('/try')).text).toContain('<p>Keep this</p>');
  });
});
