/**
 * The database sets itself up at start: numbered migrations applied once, in a transaction,
 * one table per auth collection (a collection added to the config gets its table at the next
 * start), and collection names checked before they become SQL.
 */
import type { SqliteStorage } from '../../src/db/sqlite/storage.ts';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createContext } from '../../src/context.ts';
import { migrate } from '../../src/db/sqlite/migrate.ts';
import { openDb, type Db } from '../../src/db/sqlite/open.ts';
import { tempDataDir } from '../support.ts';

const open: Db[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function freshDb(): { db: Db; file: string } {
  const dir = tempDataDir();
  dirs.push(dir);
  const file = path.join(dir, 'app.db');
  const db = openDb(file);
  open.push(db);
  return { db, file };
}

function tables(db: Db): string[] {
  return db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all() as string[];
}

function columns(db: Db, table: string): string[] {
  return (db.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(table) as string[]);
}

function insertAccount(db: Db, table: string, id: string, email: string): void {
  db.prepare('INSERT INTO accounts (id, collection) VALUES (?, ?)').run(id, table);
  db.prepare(`INSERT INTO ${table} (id, email, username, password_hash, created_at, last_active_at)
    VALUES (?, ?, ?, 'hash', 1, 1)`).run(id, email, email.split('@')[0]);
}

describe('migrate()', () => {
  it('creates the accounts table, one table per collection and the shop tables on a new database', () => {
    const { db } = freshDb();
    const applied = migrate(db, ['users', 'customers']);
    expect(applied).toEqual(expect.arrayContaining(['001-accounts', '002-shop', 'users:collection-001-auth', 'customers:collection-001-auth']));
    expect(tables(db)).toEqual(expect.arrayContaining(['accounts', 'users', 'customers', 'cart_items', 'orders', 'order_lines', 'notes', 'schema_migrations']));
  });

  it('gives each collection table the fields an auth record needs', () => {
    const { db } = freshDb();
    migrate(db, ['users', 'customers']);
    for (const table of ['users', 'customers']) {
      expect(columns(db, table)).toEqual(expect.arrayContaining([
        'id', 'email', 'username', 'password_hash', 'verified', 'is_anonymous', 'created_at', 'last_active_at', 'claimed_at', 'metadata',
        'email_verified_at',
      ]));
    }
  });

  it('applies nothing the second time, and keeps the data', () => {
    const { db } = freshDb();
    migrate(db, ['users', 'customers']);
    insertAccount(db, 'users', 'kept-user-0000001', 'kept@example.com');
    const recorded = db.prepare('SELECT count(*) FROM schema_migrations').pluck().get();

    expect(migrate(db, ['users', 'customers'])).toEqual([]);
    expect(db.prepare('SELECT count(*) FROM schema_migrations').pluck().get()).toBe(recorded);
    expect(db.prepare('SELECT email FROM users WHERE id = ?').pluck().get('kept-user-0000001')).toBe('kept@example.com');
  });

  it('applies nothing on a restart: a second connection to the same file sees the schema done', () => {
    const { db, file } = freshDb();
    migrate(db, ['users']);
    const again = openDb(file);
    open.push(again);
    expect(migrate(again, ['users'])).toEqual([]);
  });

  it('creates the table of a collection added later, and only that', () => {
    const { db } = freshDb();
    migrate(db, ['users']);
    insertAccount(db, 'users', 'kept-user-0000002', 'still@example.com');
    expect(migrate(db, ['users', 'members'])).toEqual(['members:collection-001-auth', 'members:collection-002-email-verified']);
    expect(tables(db)).toContain('members');
    expect(columns(db, 'members')).toContain('is_anonymous');
    expect(db.prepare('SELECT count(*) FROM users').pluck().get()).toBe(1);
  });

  it('makes emails unique across case in each collection', () => {
    const { db } = freshDb();
    migrate(db, ['users']);
    insertAccount(db, 'users', 'first-user-000001', 'Ada@Example.com');
    expect(() => insertAccount(db, 'users', 'second-user-00001', 'ada@example.com')).toThrow(/UNIQUE/);
  });

  it('refuses a collection name that is not a plain identifier, before any SQL runs', () => {
    const { db } = freshDb();
    migrate(db, ['users']);
    // Table names cannot be bound parameters: unchecked, this name drops a table (the open
    // comment swallows the rest of the migration, so the whole script stays valid SQL).
    const attack = 'evil (id TEXT); DROP TABLE notes; /*';
    expect(() => migrate(db, ['users', attack])).toThrow(/collection/i);
    expect(tables(db)).toContain('notes');
    expect(tables(db)).not.toContain('evil');
    for (const name of ['Users', 'user-s', '1users', 'users"', '']) {
      expect(() => migrate(db, [name]), name).toThrow(/collection/i);
    }
  });
});

describe('opening the database', () => {
  it('uses WAL, a busy timeout and enforced foreign keys', () => {
    const { db } = freshDb();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('busy_timeout', { simple: true })).toBeGreaterThanOrEqual(1000);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
  });
});

describe('starting the app', () => {
  it('migrates by itself, and a new collection in GUEST_COLLECTIONS gets its table on the next start', async () => {
    const dir = tempDataDir();
    dirs.push(dir);
    const first = await createContext(loadConfig({ NODE_ENV: 'test', DATA_DIR: dir, BCRYPT_COST: '10' }));
    const work = first.storage.transactor.begin();
    const guest = first.guests.create(work, 'users', {});
    await work.commit();
    expect(tables((first.storage as SqliteStorage).db)).not.toContain('members');
    await first.close();

    const second = await createContext(loadConfig({ NODE_ENV: 'test', DATA_DIR: dir, BCRYPT_COST: '10', GUEST_COLLECTIONS: 'users,customers,members' }));
    try {
      expect(tables((second.storage as SqliteStorage).db)).toContain('members');
      expect((await second.storage.records.find('users', guest.record.id))?.isAnonymous).toBe(true);
      const work2 = second.storage.transactor.begin();
      const member = second.guests.create(work2, 'members', {});
      await work2.commit();
      expect((await second.storage.records.find('members', member.record.id))?.collection).toBe('members');
    } finally {
      await second.close();
    }
  });
});
