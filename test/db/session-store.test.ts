/**
 * The SQLite session store (connect-sqlite3 with its statements kept prepared), through the
 * interface express-session calls: many browsers saving at once each read back their own
 * session, more of them than the store keeps statements prepared for; a destroyed or expired
 * session reads as none; and the store's connection really closes once the server stops.
 */
import fs from 'node:fs';
import { promisify } from 'node:util';
import type session from 'express-session';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteSessionStorage } from '../../src/db/sqlite/session-store.ts';
import type { SessionStorage } from '../../src/http/sessions.ts';
import { tempDataDir } from '../support.ts';

const WEEK_MS = 7 * 24 * 3_600_000;

let dataDir: string;
let storage: SessionStorage;
let closed = false;

beforeEach(async () => {
  dataDir = tempDataDir();
  storage = openSqliteSessionStorage(dataDir);
  closed = false;
  await storage.ready;
});
afterEach(async () => {
  if (!closed) await storage.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** A session as express-session hands it to the store: a cookie, and what the app put in it. */
function sessionOf(accountId: string, maxAge = WEEK_MS): session.SessionData {
  const expires = new Date(Date.now() + maxAge);
  return {
    cookie: { originalMaxAge: maxAge, maxAge, expires, httpOnly: true, path: '/', sameSite: 'lax' },
    auth: { id: accountId, collection: 'users', guest: true },
  } as unknown as session.SessionData;
}

const save = (sid: string, data: session.SessionData) => promisify(storage.store.set.bind(storage.store))(sid, data);
const read = (sid: string) => promisify(storage.store.get.bind(storage.store))(sid);
const destroy = (sid: string) => promisify(storage.store.destroy.bind(storage.store))(sid);

describe('the SQLite session store', () => {
  it('keeps each of 40 sessions saved at once, and reads each back as its own', async () => {
    const sids = Array.from({ length: 40 }, (_, i) => `sid-${i}`);
    await Promise.all(sids.map((sid, i) => save(sid, sessionOf(`guest-${i}`))));

    const sessions = await Promise.all(sids.map((sid) => read(sid)));
    expect(sessions.map((each) => (each as { auth: { id: string } }).auth.id)).toEqual(sids.map((_, i) => `guest-${i}`));
  });

  it('replaces a session saved again under the same id', async () => {
    await save('sid', sessionOf('guest-1'));
    await save('sid', sessionOf('account-2'));
    expect(await read('sid')).toMatchObject({ auth: { id: 'account-2' } });
  });

  it('reads a destroyed session as none, and an unknown one', async () => {
    await save('sid', sessionOf('guest-1'));
    await destroy('sid');
    expect(await read('sid')).toBeNull();
    expect(await read('never-saved')).toBeNull();
  });

  it('reads a session past its expiry as none', async () => {
    await save('sid', sessionOf('guest-1', -1_000));
    expect(await read('sid')).toBeNull();
  });

  it('closes its connection once the server stops, after reads, saves and deletes', async () => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => save(`sid-${i}`, sessionOf(`guest-${i}`))));
    await Promise.all([read('sid-1'), destroy('sid-2')]);

    await storage.close();
    closed = true;
    await expect(read('sid-1')).rejects.toThrow(/closed/i);
  });
});
