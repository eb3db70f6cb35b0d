/**
 * Writes for an account, at the store's edge: a row that references an account deleted meanwhile
 * (cleanup, in another process) becomes AccountGoneError; any other constraint failure stays the
 * bug it is.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createAccountWrite } from '../../src/db/sqlite/account-writes.ts';
import { migrate } from '../../src/db/sqlite/migrate.ts';
import { openDb, type Db } from '../../src/db/sqlite/open.ts';
import { AccountGoneError } from '../../src/errors.ts';
import { tempDataDir } from '../support.ts';

let db: Db;
let dir: string;
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function shopDb(): Db {
  dir = tempDataDir();
  db = openDb(path.join(dir, 'app.db'));
  migrate(db, ['users']);
  db.prepare("INSERT INTO products (id, name, description, price_cents, image, position) VALUES ('mug', 'Mug', '', 100, '', 1)").run();
  db.prepare("INSERT INTO accounts (id, collection) VALUES ('present', 'users')").run();
  return db;
}

const addLine = (accountId: string, productId: string) => () =>
  db.prepare('INSERT INTO cart_items (account_id, product_id, quantity, added_at) VALUES (?, ?, 1, 0)').run(accountId, productId);

describe('a write for an account', () => {
  it('throws AccountGoneError, naming the account, when its row is gone', () => {
    const forAccount = createAccountWrite(shopDb());
    const write = () => forAccount('deleted', addLine('deleted', 'mug'));
    expect(write).toThrow(AccountGoneError);
    expect(write).toThrow('account deleted was deleted during the request');
  });

  it('lets the SQLite error through when the account exists and another reference failed', () => {
    const forAccount = createAccountWrite(shopDb());
    expect(() => forAccount('present', addLine('present', 'no-such-product'))).toThrow(Database.SqliteError);
  });

  it('returns what the write returns when it succeeds', () => {
    const forAccount = createAccountWrite(shopDb());
    expect(forAccount('present', addLine('present', 'mug')).changes).toBe(1);
  });
});
