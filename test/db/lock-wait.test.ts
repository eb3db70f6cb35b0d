/**
 * SQLite has one write lock per database file. When another process holds it (a cleanup batch),
 * the server's writes wait for it on a timer, not inside better-sqlite3's synchronous call: the
 * other requests of the server go on meanwhile. The other process here is a second connection
 * to the same file, holding the lock in an open IMMEDIATE transaction.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createLockWait } from '../../src/db/sqlite/lock-wait.ts';
import { migrate } from '../../src/db/sqlite/migrate.ts';
import { openDb, type Db } from '../../src/db/sqlite/open.ts';
import { createSqliteOutboxStore } from '../../src/db/sqlite/outbox-store.ts';
import { createSqliteTransactor, sqliteWrite } from '../../src/db/sqlite/unit-of-work.ts';
import { tempDataDir } from '../support.ts';

let dir: string;
const open: Db[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The server's connection, and another one that holds the write lock until released. */
function serverAndCleanup(): { server: Db; release(): void } {
  dir = tempDataDir();
  const file = path.join(dir, 'app.db');
  const server = openDb(file);
  migrate(server, ['users']);
  const cleanup = openDb(file);
  open.push(cleanup, server);
  cleanup.prepare('BEGIN IMMEDIATE').run();
  return { server, release: () => cleanup.prepare('COMMIT').run() };
}

/** Counts the turns of the event loop while `work` runs: zero means `work` held the loop. */
async function turnsDuring<T>(work: Promise<T>): Promise<{ turns: number; result: T }> {
  let turns = 0;
  let done = false;
  const tick = async () => { while (!done) { await sleep(1); turns++; } };
  const ticking = tick();
  try {
    return { result: await work, turns };
  } finally {
    done = true;
    await ticking;
  }
}

describe('a write while another process holds the write lock', () => {
  it('waits off the event loop, then commits once the lock is free', async () => {
    const { server, release } = serverAndCleanup();
    const transactor = createSqliteTransactor(server);
    const insert = sqliteWrite(() => server.prepare("INSERT INTO accounts (id, collection) VALUES ('waited', 'users')").run().changes);
    setTimeout(release, 60);
    const { turns, result } = await turnsDuring(transactor.apply(insert));
    expect(result).toBe(1);
    expect(turns).toBeGreaterThan(5); // the loop ran timers while the write waited
    expect(server.prepare("SELECT count(*) FROM accounts WHERE id = 'waited'").pluck().get()).toBe(1);
  });

  it('fails with SQLITE_BUSY once the wait runs out, having written nothing', async () => {
    const { server } = serverAndCleanup();
    const transactor = createSqliteTransactor(server, createLockWait(server, 100));
    const started = Date.now();
    await expect(transactor.apply(sqliteWrite(() => server.prepare("INSERT INTO accounts (id, collection) VALUES ('late', 'users')").run())))
      .rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
    expect(Date.now() - started).toBeLessThan(2_000); // its own wait, not the connection's 5 s
    expect(server.prepare("SELECT count(*) FROM accounts WHERE id = 'late'").pluck().get()).toBe(0);
  });

  it('leaves reads waiting as before: the connection keeps its busy timeout', async () => {
    const { server, release } = serverAndCleanup();
    const transactor = createSqliteTransactor(server);
    setTimeout(release, 20);
    await transactor.apply(sqliteWrite(() => server.prepare("INSERT INTO accounts (id, collection) VALUES ('r', 'users')").run()));
    expect(server.pragma('busy_timeout', { simple: true })).toBe(5000);
  });
});

describe('the mail sender polling an idle outbox', () => {
  it('takes no write lock: the poll answers at once while another process writes', async () => {
    const { server, release } = serverAndCleanup();
    const outbox = createSqliteOutboxStore(server, createLockWait(server, 100));
    // With a write to wait for, this claim would fail with SQLITE_BUSY after its 100 ms.
    expect(await outbox.claim(Date.now(), 10, 60_000)).toEqual([]);
    release();
  });

  it('claims due mail once the lock is free, without holding the loop meanwhile', async () => {
    const { server, release } = serverAndCleanup();
    const outbox = createSqliteOutboxStore(server);
    const mail = { id: 'm1', recipient: 'a@shop.example', subject: 'Hi', text: 'Hi', html: '<p>Hi</p>', messageId: '<m1@shop.example>', createdAt: 1 };
    release();
    await createSqliteTransactor(server).apply(outbox.enqueue(mail));
    open[0]!.prepare('BEGIN IMMEDIATE').run();
    setTimeout(() => open[0]!.prepare('COMMIT').run(), 40);
    const { turns, result } = await turnsDuring(outbox.claim(Date.now(), 10, 60_000));
    expect(result.map((claimed) => claimed.id)).toEqual(['m1']);
    expect(turns).toBeGreaterThan(3);
  });
});
