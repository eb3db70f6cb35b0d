import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireCleanupLock } from '../../src/cleanup/lock.ts';
import { count, isGuest, sessionsOf, staleMix, tempDataDir, useShop } from './harness.ts';
import { runScript } from './scripts.ts';

/** Runs a script on the SQLite files of `dataDir`. */
const script = (name: 'cleanup' | 'seed-guests', args: string[], dataDir: string) => runScript(name, args, { DATA_DIR: dataDir });

const t = useShop();

describe('npm run cleanup -- --json', () => {
  it('prints exactly one JSON object, the summary, and nothing on stderr', async () => {
    staleMix(t.shop);
    const { status, stdout, stderr } = await script('cleanup', ['--json'], t.dataDir);
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const summary = JSON.parse(stdout);
    expect(Object.keys(summary)).toEqual(['dryRun', 'cutoff', 'collections', 'deleted', 'sessionsRemoved', 'ordersDetached', 'seconds']);
    expect(summary).toMatchObject({
      dryRun: false, collections: { users: { deleted: 1 }, customers: { deleted: 1 } }, deleted: 2, sessionsRemoved: 1, ordersDetached: 1,
    });
    // The default cutoff is GUEST_RETENTION_DAYS (30) before now.
    expect(Math.abs(Date.parse(summary.cutoff) - (Date.now() - 30 * 86_400_000))).toBeLessThan(60_000);
    expect(summary.seconds).toBeGreaterThanOrEqual(0);
  });

  it('with --dry-run, reports what would go and changes nothing', async () => {
    const stale = t.shop.guest(40);
    t.shop.session(stale);
    const { status, stdout } = await script('cleanup', ['--json', '--dry-run', '--collection', 'users'], t.dataDir);
    expect(status).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ dryRun: true, collections: { users: { deleted: 1 } }, deleted: 1, sessionsRemoved: 1 });
    expect(isGuest(t.shop, stale)).toBe(true);
    expect(sessionsOf(t.shop, stale)).toBe(1);
  });
});

describe('npm run cleanup (for a person)', () => {
  it('prints a summary on stdout and progress lines on stderr when stderr is not a terminal', async () => {
    t.shop.guest(40);
    t.shop.guest(40);
    const { status, stdout, stderr } = await script('cleanup', ['--older-than', '7d', '--collection', 'users,customers'], t.dataDir);
    expect(status).toBe(0);
    expect(stdout).toContain('Removed 2 guests idle since before');
    expect(stdout).toMatch(/users: 2\n {2}customers: 0\n/);
    expect(stderr).toContain('users: stale guests: 2 to go');
    expect(stderr).toContain('users: stale guests: removed 2 of 2');
    expect(stderr).not.toContain('\r');
  });

  it('answers --help with the usage on stdout', async () => {
    const { status, stdout } = await script('cleanup', ['--help'], t.dataDir);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^Usage: npm run cleanup -- \[options\]/);
  });
});

describe('bad arguments', () => {
  const cases: Array<[string, string[], string]> = [
    ['a cutoff under one hour', ['--older-than', '30m'], '--older-than must be at least 1h'],
    ['a cutoff that is not a duration', ['--older-than', 'soon'], '--older-than must be a duration such as 12h or 7d (got "soon")'],
    ['a bounced cutoff under one hour', ['--bounced-after', '59m'], '--bounced-after must be at least 1h'],
    ['a collection that is not configured', ['--collection', 'users,admins'], '--collection "admins" is not a configured collection'],
    ['a batch size of 0', ['--batch-size', '0'], '--batch-size must be a whole number from 1 to 10000'],
    ['an unknown flag', ['--force'], "Unknown option '--force'"],
    ['a flag without its value', ['--older-than'], "Option '--older-than <value>' argument missing"],
  ];

  it.each(cases)('exits 2 with the usage on stderr for %s, and removes nothing', async (_name, args, message) => {
    const stale = t.shop.guest(400);
    const { status, stdout, stderr } = await script('cleanup', args, t.dataDir);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
    expect(stderr).toContain('Usage: npm run cleanup -- [options]');
    expect(isGuest(t.shop, stale)).toBe(true);
  });
});

describe('failures', () => {
  it('exits 1 naming the other run when a cleanup is already running', async () => {
    const stale = t.shop.guest(40);
    const lock = acquireCleanupLock(t.dataDir);
    try {
      const { status, stdout, stderr } = await script('cleanup', ['--json'], t.dataDir);
      expect({ status, stdout }).toEqual({ status: 1, stdout: '' });
      expect(stderr).toContain(`another cleanup is running (pid ${process.pid})`);
      expect(stderr).not.toContain('Usage');
    } finally {
      lock.release();
    }
    expect(isGuest(t.shop, stale)).toBe(true);
  });

  it('exits 1 with a readable message when DATA_DIR holds no database', async () => {
    const empty = tempDataDir();
    const { status, stderr } = await script('cleanup', [], empty);
    fs.rmSync(empty, { recursive: true, force: true });
    expect(status).toBe(1);
    expect(stderr).toBe(`cleanup: no database at ${path.join(empty, 'app.db')}: is DATA_DIR right?\n`);
  });
});

describe('npm run seed:guests', () => {
  it('writes stale guests with a session each and carts for the given share, which cleanup then removes', async () => {
    const seeded = await script('seed-guests', ['--count', '300', '--age', '45d', '--collection', 'customers', '--cart-ratio', '0.1', '--json'], t.dataDir);
    expect(seeded.status).toBe(0);
    expect(JSON.parse(seeded.stdout)).toMatchObject({ guests: 300, sessions: 300, carts: 30 });
    expect(count(t.shop.db, `SELECT 1 FROM customers WHERE is_anonymous = 1 AND last_active_at < ?`, Date.now() - 45 * 86_400_000)).toBe(300);
    const cleaned = await script('cleanup', ['--json'], t.dataDir);
    expect(JSON.parse(cleaned.stdout)).toMatchObject({ deleted: 300, sessionsRemoved: 300, collections: { customers: { deleted: 300 } } });
    expect(count(t.shop.db, 'SELECT 1 FROM cart_items')).toBe(0);
  });

  it('exits 2 with its usage without --count', async () => {
    const { status, stderr } = await script('seed-guests', [], t.dataDir);
    expect(status).toBe(2);
    expect(stderr).toContain('--count is required');
    expect(stderr).toContain('Usage: npm run seed:guests');
  });
});
