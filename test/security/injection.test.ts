/**
 * SQL injection: SQL metacharacters in every field are stored and shown literally and the schema
 * stays intact; collection names (which become table names, the one place SQL is built from a
 * name) come only from validated configuration, never from a template's argument or a cookie.
 * Plus the other half of "only your own rows": ids of other visitors' records do nothing.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { column, countOf, firstRow, scalar, schemaOf, tableNames } from '../rows.ts';
import { guestWithCart, startApp, type TestApp, raw } from '../support.ts';
import { escaped, expectRedirect, guestBrowser, PASSWORD, registeredBrowser, signedInAs, uniqueEmail } from './attack.ts';

const INJECTIONS = [`'; DROP TABLE users; --`, `" OR 1=1 --`, `Robert'); DELETE FROM notes; --`, `%' OR '1'='1`, `1; UPDATE orders SET total_cents = 0`];

let app: TestApp;
beforeAll(async () => { app = await startApp(); });
afterAll(async () => { await app.close(); });

const schema = () => schemaOf(app);
const count = (table: string) => countOf(app, table);

describe('SQL metacharacters', () => {
  let before: unknown[];
  beforeAll(async () => { before = await schema(); });

  it('are stored literally as note bodies and shown as typed', async () => {
    const guest = await guestBrowser(app);
    for (const body of INJECTIONS) expectRedirect(await guest.submit('/try', { action: 'add-note', body }), 'adding a note');
    const id = guest.cookie('gk.resume')!.split('.')[1]!;
    const stored = await column(app, 'SELECT body FROM notes WHERE account_id = ? ORDER BY id', id);
    expect(stored).toEqual(INJECTIONS);
    const page = (await guest.get('/try')).text;
    for (const body of INJECTIONS) expect(page).toContain(escaped(body));
  });

  it('are stored literally in every shipping field of an order', async () => {
    const guest = app.browser();
    await guestWithCart(guest);
    const [name, address, city, postcode] = INJECTIONS;
    const placed = await guest.submit('/checkout', { action: 'place-order', email: 'ada@example.com', name: name!, address: address!, city: city!, postcode: postcode! });
    expectRedirect(placed, 'placing the order');
    const id = placed.headers.location!.split('/').pop();
    expect(await firstRow(app, 'SELECT name, address, city, postcode FROM orders WHERE id = ?', id))
      .toEqual({ name, address, city, postcode });
    expect(await count('order_lines')).toBeGreaterThan(0);
  });

  it('in an email that is valid (an apostrophe) register and sign in as typed', async () => {
    const email = `o'reilly-${process.pid}@example.com`;
    await registeredBrowser(app, email);
    expect(await countOf(app, 'users', 'email = ?', email)).toBe(1);
    const browser = app.browser();
    expectRedirect(await browser.submit('/login', { email, password: PASSWORD }), 'sign-in');
    expect(await signedInAs(browser)).toBe(escaped(email));
  });

  it('sign nobody in when used as the email or password at sign-in', async () => {
    await registeredBrowser(app, uniqueEmail('existing'));
    for (const attempt of INJECTIONS) {
      for (const fields of [{ email: attempt, password: PASSWORD }, { email: `x${attempt}@example.com`, password: attempt }, { email: uniqueEmail('existing'), password: attempt }]) {
        const browser = app.browser();
        const response = await browser.submit('/login', fields);
        expect(response.status).toBe(401);
        expect(await signedInAs(browser)).toBeNull();
      }
    }
  });

  it('in product ids, quantities and note ids change no row', async () => {
    const guest = app.browser();
    await guestWithCart(guest);
    expectRedirect(await guest.submit('/try', { action: 'add-note', body: 'keep' }), 'adding a note');
    const [notes, cart] = [await count('notes'), await app.sql('SELECT * FROM cart_items ORDER BY account_id, product_id')];
    for (const attempt of INJECTIONS) {
      expect((await guest.submit('/products/candle', { productId: attempt, quantity: '1' })).status).toBe(404);
      expect((await guest.submit('/products/candle', { productId: 'candle', quantity: attempt })).status).toBe(422);
      expect((await guest.submit('/cart', { action: 'remove', productId: `ember-mug${attempt}` })).status).toBe(404);
      await guest.submit('/try', { action: 'delete-note', noteId: attempt });
      await guest.submit('/try', { action: 'delete-note', noteId: `0 OR 1=1` });
    }
    expect(await count('notes')).toBe(notes);
    expect(await app.sql('SELECT * FROM cart_items ORDER BY account_id, product_id')).toEqual(cart);
  });

  it('leave every table in place', async () => {
    expect(await schema()).toEqual(before);
    expect(await count('users')).toBeGreaterThan(0);
    expect(await count('notes')).toBeGreaterThan(0);
  });
});

describe("other visitors' records", () => {
  it("a guest cannot delete another guest's note by its id", async () => {
    const owner = await guestBrowser(app);
    expectRedirect(await owner.submit('/try', { action: 'add-note', body: 'mine alone' }), 'adding a note');
    const noteId = String(await scalar(app, `SELECT id FROM notes WHERE body = 'mine alone'`));
    const other = await guestBrowser(app);
    await other.submit('/try', { action: 'delete-note', noteId });
    expect(await countOf(app, 'notes', 'id = ?', noteId)).toBe(1);
    expect((await owner.get('/try')).text).toContain('mine alone');
  });

  it("another visitor's order page answers 404, as for an order that does not exist", async () => {
    const owner = app.browser();
    await guestWithCart(owner);
    const placed = await owner.submit('/checkout', { action: 'place-order', email: 'owner@example.com', name: 'Ada Owner', address: '1 Private Road', city: 'Town', postcode: '1000' });
    const orderPath = placed.headers.location!;
    const snoop = await guestBrowser(app);
    for (const path of [orderPath, `${orderPath}x`, '/orders/does-not-exist']) {
      const response = await snoop.get(path);
      expect(response.status).toBe(404);
      expect(response.text).not.toContain('1 Private Road');
    }
  });
});

describe('collection names', () => {
  const hostile = ['users; DROP TABLE users', 'users,customers;--', 'users,"accounts"', 'users,accounts', 'users,sqlite_master',
    'users,Users', 'users,customers x', "users,x'", 'users,notes', 'users,' + 'a'.repeat(41)];

  for (const collections of hostile) {
    it(`loadConfig refuses GUEST_COLLECTIONS=${JSON.stringify(collections)}`, () => {
      expect(() => loadConfig({ GUEST_COLLECTIONS: collections })).toThrow(ConfigError);
    });
  }

  describe('asked for by a page', () => {
    let pages: TestApp;
    beforeAll(async () => {
      const pagesDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'security', 'pages');
      pages = await startApp({}, { pagesDir });
    });
    afterAll(async () => { await pages.close(); });

    const tables = () => tableNames(pages);

    it('throws unknown_collection for `users; DROP TABLE users` and creates nothing', async () => {
      const before = await tables();
      const response = await raw(pages, { path: '/literal-collection' });
      expect(response.body).toContain('code=unknown_collection');
      expect(await tables()).toEqual(before);
      expect(await countOf(pages, 'accounts')).toBe(0);
    });

    it('throws unknown_collection for any name taken from the request', async () => {
      const before = await tables();
      for (const name of ['users; DROP TABLE users', 'accounts', 'sqlite_master', 'users--', '__proto__', 'constructor', 'toString']) {
        const response = await raw(pages, { path: `/collection?collection=${encodeURIComponent(name)}` });
        expect(response.body, name).toContain('code=unknown_collection');
      }
      expect(await tables()).toEqual(before);
      expect(await countOf(pages, 'accounts')).toBe(0);
    });
  });

  it('ignores a resume cookie naming a collection that does not exist', async () => {
    const before = await schema();
    for (const collection of ['users; DROP TABLE users', 'accounts', 'sqlite_master', '__proto__']) {
      const cookie = `gk.resume=${encodeURIComponent(`${collection}.someid.somesecret`)}`;
      const response = await raw(app, { path: '/account', headers: { cookie } });
      expect(response.status, collection).toBe(302);
    }
    expect(await schema()).toEqual(before);
  });
});
