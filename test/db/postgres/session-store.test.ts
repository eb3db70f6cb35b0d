/**
 * Sessions on PostgreSQL: express-session's store in the app's own database, each row knowing the
 * account it is signed in to, so that deleting an account ends its sessions in the same
 * transaction. On a real throwaway PostgreSQL, through the store's callbacks and over HTTP.
 */
import fs from 'node:fs';
import { promisify } from 'node:util';
import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewRecord } from '../../../src/auth/stores.ts';
import { loadConfig } from '../../../src/config.ts';
import { insertSessionRows } from '../../../src/db/postgres/session-store.ts';
import { openPostgresStorage, type PostgresStorage } from '../../../src/db/postgres/storage.ts';
import { postgresWrite } from '../../../src/db/postgres/unit-of-work.ts';
import { createSessions } from '../../../src/http/sessions.ts';
import { guestWithCart, startApp, tempDataDir, type TestApp } from '../../support.ts';
import { uniqueId } from './backends.ts';
import { startPostgres, type PostgresServer } from './server.ts';

const HOUR = 3_600_000;

let server: PostgresServer;
const opened: PostgresStorage[] = [];
beforeAll(async () => { server = await startPostgres(); });
afterAll(async () => {
  await Promise.all(opened.map((storage) => storage.close()));
  await server?.stop();
});

/** A fresh database with every migration run, as the app opens it. */
async function openStorage(): Promise<PostgresStorage> {
  const databaseUrl = await server.createDatabase();
  const storage = await openPostgresStorage({ databaseUrl, poolSize: 4, collections: ['users'] }, Date.now);
  opened.push(storage);
  return storage;
}

/** Session data as express-session hands it to the store: a Cookie ending `ttlMs` from now. */
function sessionData(ttlMs: number, data: Record<string, unknown> = {}): session.SessionData {
  const cookie = new session.Cookie();
  cookie.maxAge = ttlMs; // a setter: sets `expires`, as express-session does from the cookie options
  return { cookie, ...data } as session.SessionData;
}

/** What a session reads back as: its JSON (the cookie's expiry a string, as express-session expects). */
const asStored = (sess: session.SessionData) => JSON.parse(JSON.stringify(sess)) as unknown;

/** The store's callback methods as promises. */
function storeOf(storage: PostgresStorage) {
  const { store } = storage.sessions;
  return {
    get: promisify(store.get.bind(store)) as (sid: string) => Promise<session.SessionData | null | undefined>,
    set: promisify(store.set.bind(store)) as (sid: string, sess: session.SessionData) => Promise<void>,
    destroy: promisify(store.destroy.bind(store)) as (sid: string) => Promise<void>,
    touch: promisify(store.touch!.bind(store)) as (sid: string, sess: session.SessionData) => Promise<void>,
  };
}

async function rowOf(storage: PostgresStorage, sid: string) {
  const { rows } = await storage.pool.query<{ sess: string; expires_at: number; account_id: string | null }>(
    'SELECT sess, expires_at, account_id FROM sessions WHERE sid = $1', [sid]);
  return rows[0] ?? null;
}

const countOf = async (storage: PostgresStorage, where: string, values: unknown[] = []) =>
  Number((await storage.pool.query<{ count: string }>(`SELECT count(*) FROM sessions WHERE ${where}`, values)).rows[0]!.count);

async function guestIn(storage: PostgresStorage): Promise<{ id: string; collection: string }> {
  const id = uniqueId('guest');
  const record: NewRecord = {
    id, email: `${id}@guest.invalid`, username: `guest_${id}`, name: null, passwordHash: 'h', isAnonymous: true, now: 1, metadata: {},
  };
  await storage.transactor.apply(storage.records.insert('users', record));
  return { id, collection: 'users' };
}

describe('the PostgreSQL session store', () => {
  let storage: PostgresStorage;
  let store: ReturnType<typeof storeOf>;
  beforeAll(async () => {
    storage = await openStorage();
    store = storeOf(storage);
  });

  it('is ready at once: the migrations have made its table', async () => {
    await expect(storage.sessions.ready).resolves.toBeUndefined();
  });

  it('reads a saved session back as it was saved', async () => {
    const sess = sessionData(HOUR, { flash: 'saved', csrfSecret: 'secret' });
    await store.set('sid-read', sess);
    expect(await store.get('sid-read')).toEqual(asStored(sess));
  });

  it('reads a session past its expiry as absent, though its row stays until purged', async () => {
    await store.set('sid-expired', sessionData(-1_000, { flash: 'old' }));
    expect(await store.get('sid-expired')).toBeNull();
    expect(await rowOf(storage, 'sid-expired')).not.toBeNull();
  });

  it('keeps the expiry of the session cookie as the row\'s expires_at', async () => {
    const sess = sessionData(2 * HOUR);
    await store.set('sid-expiry', sess);
    expect((await rowOf(storage, 'sid-expiry'))?.expires_at).toBe(sess.cookie.expires!.getTime());
  });

  it('reads an unknown session as absent', async () => {
    expect(await store.get('sid-never-saved')).toBeNull();
  });

  it('removes a destroyed session', async () => {
    await store.set('sid-destroy', sessionData(HOUR, { flash: 'x' }));
    await store.destroy('sid-destroy');
    expect(await store.get('sid-destroy')).toBeNull();
    expect(await rowOf(storage, 'sid-destroy')).toBeNull();
  });

  it('keeps one row with the latest data when a session is saved twice', async () => {
    await store.set('sid-twice', sessionData(HOUR, { flash: 'first' }));
    const latest = sessionData(2 * HOUR, { flash: 'second' });
    await store.set('sid-twice', latest);
    expect(await countOf(storage, 'sid = $1', ['sid-twice'])).toBe(1);
    expect(await store.get('sid-twice')).toEqual(asStored(latest));
  });

  it('records the account a session is signed in to, and none once it is signed out', async () => {
    const auth = await guestIn(storage);
    await store.set('sid-signed-in', sessionData(HOUR, { auth, activeAt: 0 }));
    expect((await rowOf(storage, 'sid-signed-in'))?.account_id).toBe(auth.id);
    await store.set('sid-signed-in', sessionData(HOUR, { flash: 'signed out' }));
    expect((await rowOf(storage, 'sid-signed-in'))?.account_id).toBeNull();
  });

  it('moves the expiry of a live session on touch, and never brings an expired one back', async () => {
    await store.set('sid-touch', sessionData(HOUR, { flash: 'x' }));
    const later = sessionData(3 * HOUR, { flash: 'x' });
    await store.touch('sid-touch', later);
    expect((await rowOf(storage, 'sid-touch'))?.expires_at).toBe(later.cookie.expires!.getTime());

    await store.set('sid-touch-expired', sessionData(-1_000, { flash: 'x' }));
    await store.touch('sid-touch-expired', sessionData(HOUR, { flash: 'x' }));
    expect(await store.get('sid-touch-expired')).toBeNull();
  });

  it('ends every session of an account when the account is deleted, in that transaction, and leaves the others', async () => {
    const leaving = await guestIn(storage);
    const staying = await guestIn(storage);
    await store.set('sid-leaving-phone', sessionData(HOUR, { auth: leaving }));
    await store.set('sid-leaving-laptop', sessionData(HOUR, { auth: leaving }));
    await store.set('sid-staying', sessionData(HOUR, { auth: staying }));
    await store.set('sid-nobody', sessionData(HOUR, { flash: 'x' }));

    // A deletion whose transaction fails takes no session with it: they go together or not at all.
    const failing = postgresWrite(async () => { throw new Error('a later write of the same transaction failed'); });
    const work = storage.transactor.begin();
    work.defer(storage.records.delete(leaving.id));
    work.defer(failing);
    await expect(work.commit()).rejects.toThrow(/later write/);
    expect(await countOf(storage, 'account_id = $1', [leaving.id])).toBe(2);

    expect(await storage.transactor.apply(storage.records.delete(leaving.id))).toBe(true);
    expect(await store.get('sid-leaving-phone')).toBeNull();
    expect(await store.get('sid-leaving-laptop')).toBeNull();
    expect(await countOf(storage, 'account_id = $1', [leaving.id])).toBe(0);
    expect((await store.get('sid-staying'))?.auth).toEqual(staying);
    expect(await store.get('sid-nobody')).not.toBeNull();
  });

  it('ends every session of an account through the index and says how many', async () => {
    const account = await guestIn(storage);
    const other = await guestIn(storage);
    for (const sid of ['sid-index-1', 'sid-index-2', 'sid-index-3']) await store.set(sid, sessionData(HOUR, { auth: account }));
    await store.set('sid-index-other', sessionData(HOUR, { auth: other }));
    expect(await storage.sessions.index.deleteForAccount(account.id)).toBe(3);
    expect(await storage.sessions.index.deleteForAccount(account.id)).toBe(0);
    expect(await store.get('sid-index-other')).not.toBeNull();
    // Only its sessions end: the account itself stays.
    expect(await storage.records.find('users', account.id)).not.toBeNull();
  });

  // Cleanup, or another device, deletes the account while a request of this session is running;
  // the request then saves the session, still signed in.
  it('saves no session signed in to an account deleted meanwhile: it removes the row and reports no error', async () => {
    const auth = await guestIn(storage);
    await store.set('sid-gone', sessionData(HOUR, { flash: 'before' }));
    await storage.transactor.apply(storage.records.delete(auth.id));
    await expect(store.set('sid-gone', sessionData(HOUR, { auth, flash: 'after' }))).resolves.toBeUndefined();
    expect(await rowOf(storage, 'sid-gone')).toBeNull();
    expect(await store.get('sid-gone')).toBeNull();
  });

  it('passes a database failure to the callback', async () => {
    const closed = await openStorage();
    await closed.close();
    opened.splice(opened.indexOf(closed), 1);
    await expect(storeOf(closed).get('sid-any')).rejects.toThrow();
    await expect(storeOf(closed).set('sid-any', sessionData(HOUR))).rejects.toThrow();
  });
});

describe('purging expired sessions on PostgreSQL', () => {
  it('removes only the expired ones, across several batches of 1000', async () => {
    const storage = await openStorage();
    const auth = await guestIn(storage);
    const expired = Array.from({ length: 2_500 }, (_, n) => ({ sid: `sid-expired-${n}`, sess: sessionData(-HOUR, n % 2 ? { auth } : {}) }));
    const live = Array.from({ length: 3 }, (_, n) => ({ sid: `sid-live-${n}`, sess: sessionData(HOUR, { auth }) }));
    await insertSessionRows(storage.pool, [...expired, ...live]);
    expect(await countOf(storage, 'true')).toBe(2_503);

    expect(await storage.sessions.index.purgeExpired(Date.now())).toBe(2_500);
    expect(await countOf(storage, 'true')).toBe(3);
    for (const { sid } of live) expect(await storeOf(storage).get(sid)).not.toBeNull();
    expect(await storage.sessions.index.purgeExpired(Date.now())).toBe(0);
  });
});

/** An Express app with the session middleware the app mounts, over `storage`; the caller adds its routes. */
function appWithSessions(storage: PostgresStorage, dataDir: string): express.Express {
  const sessions = createSessions(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir }), 'a test secret', storage.sessions);
  const app = express();
  app.use(sessions.middleware);
  return app;
}

describe('express-session on the PostgreSQL store, over HTTP', () => {
  let storage: PostgresStorage;
  let dataDir: string;
  let agent: ReturnType<typeof request.agent>;
  beforeAll(async () => {
    storage = await openStorage();
    dataDir = tempDataDir();
    const app = appWithSessions(storage, dataDir);
    app.post('/remember/:value', (req, res) => { req.session.remembered = req.params.value; res.sendStatus(204); });
    app.get('/recall', (req, res) => { res.json({ remembered: req.session.remembered ?? null }); });
    app.post('/regenerate', (req, res, next) => {
      const { remembered } = req.session;
      req.session.regenerate((error) => {
        if (error) return next(error);
        req.session.remembered = remembered;
        res.sendStatus(204);
      });
    });
    agent = request.agent(app);
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  /** The session id in the agent's cookie (`gk.sid=s:<sid>.<signature>`). */
  function sidOf(response: request.Response): string {
    const line = ([] as string[]).concat(response.headers['set-cookie'] ?? []).find((each) => each.startsWith('gk.sid='));
    if (!line) throw new Error('no session cookie was set');
    const value = decodeURIComponent(line.slice('gk.sid='.length).split(';')[0]!);
    return value.slice(2, value.lastIndexOf('.'));
  }

  it('has a value stored in one request there in the next, from its row', async () => {
    const stored = await agent.post('/remember/teapot').expect(204);
    expect((await agent.get('/recall').expect(200)).body).toEqual({ remembered: 'teapot' });
    expect(JSON.parse((await rowOf(storage, sidOf(stored)))!.sess)).toMatchObject({ remembered: 'teapot' });
  });

  it('gives a regenerated session a new id, with the old row gone', async () => {
    const before = sidOf(await agent.post('/remember/kettle').expect(204));
    const after = sidOf(await agent.post('/regenerate').expect(204));
    expect(after).not.toBe(before);
    expect(await rowOf(storage, before)).toBeNull();
    expect(await rowOf(storage, after)).not.toBeNull();
    expect((await agent.get('/recall').expect(200)).body).toEqual({ remembered: 'kettle' });
  });
});

describe('a session read with the account it is signed in to, in one statement', () => {
  let storage: PostgresStorage;
  let dataDir: string;
  let agent: ReturnType<typeof request.agent>;
  beforeAll(async () => {
    storage = await openStorage();
    dataDir = tempDataDir();
    const app = appWithSessions(storage, dataDir);
    app.post('/sign-in/:collection/:id', (req, res) => {
      req.session.auth = { id: req.params.id, collection: req.params.collection };
      res.sendStatus(204);
    });
    app.post('/sign-out', (req, res) => { delete req.session.auth; req.session.flash = []; res.sendStatus(204); });
    // What authenticate is handed: the record, null for "gone", or nothing read at all.
    app.get('/account', (req, res) => {
      const read = req.sessionAccount;
      res.json(read === undefined ? 'not read' : read && { id: read.id, email: read.email, isAnonymous: read.isAnonymous });
    });
    agent = request.agent(app);
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('hands the request the account as it is now, not as it was when the session was saved', async () => {
    const { id } = await guestIn(storage);
    await agent.post(`/sign-in/users/${id}`).expect(204);
    await storage.pool.query('UPDATE users SET email = $1, is_anonymous = false WHERE id = $2', ['ada@example.com', id]);
    expect((await agent.get('/account').expect(200)).body).toEqual({ id, email: 'ada@example.com', isAnonymous: false });
  });

  it('says the account is gone when its row no longer exists', async () => {
    const { id } = await guestIn(storage);
    await agent.post(`/sign-in/users/${id}`).expect(204);
    await storage.pool.query('DELETE FROM users WHERE id = $1', [id]);
    expect((await agent.get('/account').expect(200)).body).toBeNull();
  });

  it('reads no account for a session signed in to no one, or to a collection the store does not know', async () => {
    await agent.post('/sign-out').expect(204);
    expect((await agent.get('/account').expect(200)).body).toBe('not read');
    const { id } = await guestIn(storage);
    await agent.post(`/sign-in/customers/${id}`).expect(204);
    expect((await agent.get('/account').expect(200)).body).toBe('not read');
  });

  it('hands each read over once: a store read that no request took is not given to the next', async () => {
    const auth = await guestIn(storage);
    const { store } = storage.sessions;
    await promisify(store.set.bind(store))('sid-untaken', sessionData(HOUR, { auth, activeAt: 0 }));
    const get = promisify(store.get.bind(store));
    await get('sid-untaken');
    expect(storage.sessions.takeAccountRead?.('sid-untaken')).toMatchObject({ id: auth.id });
    expect(storage.sessions.takeAccountRead?.('sid-untaken')).toBeUndefined();
    await get('sid-untaken');
    expect(storage.sessions.takeAccountRead?.('another-sid')).toBeUndefined();
  });
});

describe('the session a render signs in to, saved with the render\'s writes', () => {
  let app: TestApp;
  let statements: string[] = [];
  beforeAll(async () => {
    app = await startApp({ DATABASE_URL: await server.createDatabase() });
    // Every statement the app sends, counted on its real pool.
    const { pool } = app.ctx.storage as PostgresStorage;
    const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
    (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args) => {
      const [config] = args as [string | { text: string }];
      statements.push(typeof config === 'string' ? config : config.text);
      return query(...args);
    };
  });
  afterAll(async () => { await app?.close(); });

  const sessionRows = async () => (await app.sql<{ sid: string; sess: string; account_id: string | null }>(
    'SELECT sid, sess, account_id FROM sessions')).map((row) => ({ ...row, sess: JSON.parse(row.sess) as session.SessionData }));

  it('makes a new visitor\'s guest and its session in one statement, and express-session\'s save sends none', async () => {
    statements = [];
    const browser = app.browser();
    const before = (await sessionRows()).length;
    statements = [];
    expect((await browser.get('/try')).status).toBe(302);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/INSERT INTO accounts[\s\S]*INSERT INTO sessions/);
    const rows = await sessionRows();
    expect(rows).toHaveLength(before + 1);
    const [guest] = await app.sql<{ id: string }>('SELECT id FROM users WHERE id = $1', rows.at(-1)!.account_id);
    expect(rows.find((row) => row.account_id === guest!.id)!.sess).toMatchObject({ auth: { id: guest!.id, collection: 'users', guest: true } });
    // The session works: the next request renders the guest's page.
    expect((await browser.get('/try')).text).toContain('You are trying this as a guest');
  });

  it('saves the session again when it changed after the writes committed: a guest checkout\'s cart leaves it', async () => {
    const browser = app.browser();
    await guestWithCart(browser, [['candle', 1]]);
    const [customer] = await app.sql<{ id: string }>('SELECT id FROM customers');
    const row = (await sessionRows()).find((each) => each.account_id === customer!.id)!;
    expect(row.sess).toMatchObject({ auth: { id: customer!.id, collection: 'customers', guest: true } });
    expect(row.sess.cart).toBeUndefined();
    expect((await browser.get('/checkout')).text).toContain('Place order');
  });
});
