/**
 * Cleanup on PostgreSQL beyond the rules both backends share (test/cleanup/stale-guests.test.ts):
 * batches next to live transactions on the same rows, the advisory lock, and the CLI, the
 * seeder and the server's CLEANUP_INTERVAL with DATABASE_URL, each on a fresh database of a
 * throwaway server.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { scheduleCleanup } from '../../../src/cleanup/schedule.ts';
import { loadConfig } from '../../../src/config.ts';
import { acquirePostgresCleanupLock } from '../../../src/db/postgres/cleanup/lock.ts';
import { cleanShop, postgresShops, useCleanupShop } from '../../cleanup/shops.ts';
import { runScript } from '../../cleanup/scripts.ts';

const t = useCleanupShop(postgresShops());
const databaseUrl = () => t.shop.env.DATABASE_URL!;

/** A connection of the test's own, standing in for a request of a live server. */
const clients: pg.Client[] = [];
async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  clients.push(client);
  return client;
}
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.end()));
});

/** Polls `check` until it holds: for what another process or the server does in its own time. */
async function eventually(check: () => Promise<boolean>, what: string, withinMs = 10_000): Promise<void> {
  for (const deadline = Date.now() + withinMs; Date.now() < deadline; await sleep(50)) {
    if (await check()) return;
  }
  throw new Error(`not within ${withinMs} ms: ${what}`);
}

describe('batches next to live transactions', () => {
  it('skips a guest whose row a live request is writing, instead of waiting for it, and removes it next time', async () => {
    const held = await t.shop.guest(40);
    const other = await t.shop.guest(40);
    const request = await connect();
    // An update in flight that changes nothing the rule reads: the guest still matches.
    await request.query('BEGIN');
    await request.query('UPDATE users SET metadata = metadata WHERE id = $1', [held]);
    const summary = await cleanShop(t.shop, {});
    expect(summary.deleted).toBe(1);
    expect(await t.shop.exists('accounts', 'id', other)).toBe(false);
    await request.query('COMMIT');
    expect(await t.shop.isGuest(held)).toBe(true);
    expect((await cleanShop(t.shop, {})).deleted).toBe(1);
    expect(await t.shop.exists('accounts', 'id', held)).toBe(false);
  });

  it('waits for a live write to a row the delete cascades to, then removes the guest with it', async () => {
    const guest = await t.shop.guest(40);
    const sid = await t.shop.session(guest);
    const request = await connect();
    await request.query('BEGIN');
    await request.query('UPDATE sessions SET sess = sess WHERE sid = $1', [sid]);
    const cleaning = cleanShop(t.shop, {});
    const observer = await connect();
    await eventually(async () => (await observer.query(`SELECT 1 FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'WITH doomed%'`)).rowCount === 1,
    'cleanup waiting for the session row');
    await request.query('COMMIT');
    expect(await cleaning).toMatchObject({ deleted: 1, sessionsRemoved: 1 });
    expect(await t.shop.sessionExists(sid)).toBe(false);
  });
});

describe('npm run cleanup with DATABASE_URL', () => {
  it('prints the summary as one JSON object, and never touches DATA_DIR', async () => {
    const stale = await t.shop.guest(40);
    await t.shop.session(stale);
    await t.shop.order(stale);
    await t.shop.guest(35, { collection: 'customers' });
    const fresh = await t.shop.guest(1);
    const dataDir = path.join(os.tmpdir(), `guestkit-unused-${process.pid}-${Date.now()}`);
    const { status, stdout, stderr } = await runScript('cleanup', ['--json'], { ...t.shop.env, DATA_DIR: dataDir });
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
    expect(JSON.parse(stdout)).toMatchObject({
      dryRun: false, collections: { users: { deleted: 1 }, customers: { deleted: 1 } }, deleted: 2, sessionsRemoved: 1, ordersDetached: 1,
    });
    expect(await t.shop.isGuest(fresh)).toBe(true);
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  it('exits 1 naming the other run while another cleanup holds the database\'s lock, and removes nothing', async () => {
    const stale = await t.shop.guest(40);
    const lock = await acquirePostgresCleanupLock(databaseUrl());
    try {
      const { status, stdout, stderr } = await runScript('cleanup', ['--json'], t.shop.env);
      expect({ status, stdout }).toEqual({ status: 1, stdout: '' });
      expect(stderr).toBe(`cleanup: another cleanup is running (pid ${process.pid} on ${os.hostname()})\n`);
    } finally {
      await lock.release();
    }
    expect(await t.shop.isGuest(stale)).toBe(true);
    expect((await runScript('cleanup', ['--json'], t.shop.env)).status).toBe(0);
  });

  it('runs again once a run holding the lock is killed: the lock goes with its connection', async () => {
    await t.shop.guest(40);
    const holder = spawn(process.execPath, ['--import', 'tsx', 'test/db/postgres/cleanup-lock-holder.ts', databaseUrl()], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    expect((await runScript('cleanup', ['--json'], t.shop.env)).status).toBe(1);
    holder.kill('SIGKILL');
    const observer = await connect();
    await eventually(async () => (await observer.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory'
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)).rowCount === 0, 'the killed holder\'s lock released');
    const { status, stdout } = await runScript('cleanup', ['--json'], t.shop.env);
    expect(status).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ deleted: 1 });
  });

  it('exits 1 naming DATABASE_URL, without its password, when the database cannot be reached', async () => {
    const { status, stderr } = await runScript('cleanup', [], { DATABASE_URL: 'postgres://guestkit:s3cret-pw@127.0.0.1:1/shop' });
    expect(status).toBe(1);
    expect(stderr).toMatch(/^cleanup: cannot open the database of DATABASE_URL \(postgres:\/\/guestkit:\*\*\*@127\.0\.0\.1:1\/shop\): .*ECONNREFUSED/);
    expect(stderr).not.toContain('s3cret-pw');
  });
});

describe('npm run seed:guests with DATABASE_URL', () => {
  it('writes stale guests with a session each and carts for the given share, which cleanup then removes', async () => {
    const seeded = await runScript('seed-guests', ['--count', '300', '--age', '45d', '--collection', 'customers', '--cart-ratio', '0.1', '--json'], t.shop.env);
    expect(seeded.status, seeded.stderr).toBe(0);
    expect(JSON.parse(seeded.stdout)).toMatchObject({ guests: 300, sessions: 300, carts: 30 });
    expect(await t.shop.count('SELECT 1 FROM customers WHERE is_anonymous AND last_active_at < ?', Date.now() - 45 * 86_400_000)).toBe(300);
    expect(await t.shop.count(`SELECT 1 FROM auth_events WHERE type = 'guest_created' AND collection = 'customers'`)).toBe(300);
    // Sessions as express-session stores them, signed in to their guest.
    const [session] = await t.shop.rows<{ sess: string; account_id: string }>('SELECT sess, account_id FROM sessions LIMIT 1');
    expect(JSON.parse(session!.sess)).toMatchObject({ cookie: { httpOnly: true, path: '/' }, auth: { id: session!.account_id, collection: 'customers' } });
    const cleaned = await runScript('cleanup', ['--json'], t.shop.env);
    expect(JSON.parse(cleaned.stdout)).toMatchObject({ deleted: 300, sessionsRemoved: 300, collections: { customers: { deleted: 300 } } });
    expect(await t.shop.count('SELECT 1 FROM cart_items')).toBe(0);
    expect(await t.shop.count('SELECT 1 FROM sessions')).toBe(0);
  });
});

describe('CLEANUP_INTERVAL on a server with DATABASE_URL', () => {
  it('runs the cleanup script on the server\'s database, whatever environment the config came from', async () => {
    await t.shop.guest(45);
    await t.shop.guest(50, { collection: 'customers' });
    const fresh = await t.shop.guest(1);
    const config = loadConfig({ NODE_ENV: 'test', CLEANUP_INTERVAL: '1s', DATABASE_URL: databaseUrl(), DATA_DIR: os.tmpdir() });
    let logged = '';
    const stop = scheduleCleanup(config, (line) => { logged += `${line}\n`; });
    try {
      // The first run starts a second in; the child then loads tsx and connects.
      await eventually(async () => /Cleanup removed 2 stale guests/.test(logged), 'a cleanup run logged', 30_000);
    } finally {
      stop();
    }
    expect(await t.shop.isGuest(fresh)).toBe(true);
  });
});
