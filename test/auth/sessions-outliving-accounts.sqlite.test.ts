/**
 * SQLite keeps sessions in their own file, sessions.db, and cleanup removes a guest's sessions
 * only after the guest (src/db/sqlite/cleanup/session-sweep.ts): in between, a browser's session
 * still names a guest who is gone. PostgreSQL removes both in one transaction (the sessions'
 * account_id cascades), so this window exists there only within a request, which
 * conversion.test.ts covers on both backends.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { csrfTokenIn, type TestApp } from '../support.ts';
import { countRows, jsonOf, PASSWORD, startFixtureApp, textOf } from '../visitors.ts';

let app: TestApp;
beforeEach(async () => { app = await startFixtureApp(); });
afterEach(async () => { await app.close(); });

describe('convertGuest() with a session that outlived its guest', () => {
  it('answers 401 not_signed_in when the guest was removed while the form was open', async () => {
    const browser = app.browser();
    const { record } = jsonOf<{ record: { id: string } }>((await browser.get('/guest')).text, 'result');
    const token = csrfTokenIn((await browser.get('/convert')).text)!;
    await app.ctx.storage.transactor.apply(app.ctx.storage.records.delete(record.id));
    const page = await browser.post('/convert', { _csrf: token, email: 'ada@example.com', password: PASSWORD });
    expect(page.status).toBe(401);
    expect(textOf(page.text, 'error')).toBe('not_signed_in');
    expect(await countRows(app, 'accounts')).toBe(0);
  });
});
