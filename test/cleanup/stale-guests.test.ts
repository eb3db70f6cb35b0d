import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { acquireCleanupLock, withCleanupLock } from '../../src/cleanup/lock.ts';
import { count, exists, isGuest, runCleanup, sessionsOf, staleMix, useShop } from './harness.ts';

const t = useShop();

describe('which accounts go', () => {
  it('removes guests idle longer than the cutoff and keeps guests active since', async () => {
    const stale = [t.shop.guest(45), t.shop.guest(31), t.shop.guest(60, { activeDaysAgo: 40 })];
    const fresh = [t.shop.guest(2), t.shop.guest(29), t.shop.guest(90, { activeDaysAgo: 1 })];
    const summary = await runCleanup(t.dataDir, { olderThanDays: 30 });
    expect(summary.deleted).toBe(3);
    for (const id of stale) expect(exists(t.shop.db, 'accounts', 'id', id)).toBe(false);
    for (const id of fresh) expect(isGuest(t.shop, id)).toBe(true);
  });

  it('never removes registered accounts, however long idle', async () => {
    const accounts = [t.shop.registered(400), t.shop.registered(400, 'customers')];
    const summary = await runCleanup(t.dataDir, { olderThanDays: 30 });
    expect(summary.deleted).toBe(0);
    expect(t.shop.users.find('users', accounts[0]!)).not.toBeNull();
    expect(t.shop.users.find('customers', accounts[1]!)).not.toBeNull();
  });

  it('honours a shorter cutoff such as 12 hours', async () => {
    const yesterday = t.shop.guest(1);
    const justNow = t.shop.guest(0.1);
    await runCleanup(t.dataDir, { cutoff: Date.now() - 12 * 3_600_000 });
    expect(exists(t.shop.db, 'accounts', 'id', yesterday)).toBe(false);
    expect(isGuest(t.shop, justNow)).toBe(true);
  });

  it('cleans only the collections asked for, and reports each one', async () => {
    const user = t.shop.guest(60);
    const customer = t.shop.guest(60, { collection: 'customers' });
    const summary = await runCleanup(t.dataDir, { collections: ['customers'] });
    expect(summary.collections).toEqual({ customers: { deleted: 1 } });
    expect(exists(t.shop.db, 'accounts', 'id', customer)).toBe(false);
    expect(isGuest(t.shop, user)).toBe(true);
  });

  it('works through many small batches and removes every stale guest', async () => {
    const stale = Array.from({ length: 53 }, () => t.shop.guest(40));
    const keep = Array.from({ length: 5 }, () => t.shop.guest(1));
    const seen: number[] = [];
    const summary = await runCleanup(t.dataDir, { batchSize: 7 }, {
      onProgress: (progress) => { if (progress.kind === 'stale' && progress.collection === 'users') seen.push(progress.done); },
    });
    expect(summary.deleted).toBe(53);
    expect(seen).toEqual([0, 7, 14, 21, 28, 35, 42, 49, 53]);
    expect(stale.filter((id) => exists(t.shop.db, 'accounts', 'id', id))).toEqual([]);
    expect(keep.filter((id) => isGuest(t.shop, id))).toEqual(keep);
  });
});

describe('what goes with a removed guest', () => {
  it('removes its sessions, and keeps the sessions of everyone else', async () => {
    const stale = t.shop.guest(40);
    const fresh = t.shop.guest(1);
    const member = t.shop.registered(400);
    t.shop.session(stale);
    t.shop.session(stale);
    t.shop.session(fresh);
    t.shop.session(member);
    const anonymous = t.shop.session(null);
    const summary = await runCleanup(t.dataDir, {});
    expect(summary.sessionsRemoved).toBe(2);
    expect(sessionsOf(t.shop, stale)).toBe(0);
    expect(sessionsOf(t.shop, fresh)).toBe(1);
    expect(sessionsOf(t.shop, member)).toBe(1);
    expect(exists(t.shop.sessionDb, 'sessions', 'sid', anonymous)).toBe(true);
  });

  it('removes its cart and notes by cascade, and nobody else\'s', async () => {
    const stale = t.shop.guest(40);
    const fresh = t.shop.guest(1);
    for (const id of [stale, fresh]) {
      t.shop.cart(id);
      t.shop.note(id);
    }
    await runCleanup(t.dataDir, {});
    expect(exists(t.shop.db, 'cart_items', 'account_id', stale)).toBe(false);
    expect(exists(t.shop.db, 'notes', 'account_id', stale)).toBe(false);
    expect(exists(t.shop.db, 'users', 'id', stale)).toBe(false);
    expect(exists(t.shop.db, 'cart_items', 'account_id', fresh)).toBe(true);
    expect(exists(t.shop.db, 'notes', 'account_id', fresh)).toBe(true);
  });

  it('keeps its orders, detached from it, with their contact and shipping snapshot and lines', async () => {
    const stale = t.shop.guest(40);
    const orderId = t.shop.order(stale);
    const summary = await runCleanup(t.dataDir, {});
    expect(summary.ordersDetached).toBe(1);
    const order = t.shop.db.prepare('SELECT account_id, name, address, city, postcode, total_cents FROM orders WHERE id = ?').get(orderId);
    expect(order).toEqual({ account_id: null, name: 'Ada Guest', address: '1 Loop Lane', city: 'Leeds', postcode: 'LS1 1AA', total_cents: 2400 });
    expect(count(t.shop.db, 'SELECT 1 FROM order_lines WHERE order_id = ?', orderId)).toBe(1);
  });

  it('writes one guest_deleted event per removed guest, with its collection', async () => {
    const removed = [t.shop.guest(40), t.shop.guest(50, { collection: 'customers' })];
    t.shop.guest(1);
    await runCleanup(t.dataDir, {});
    const events = t.shop.db.prepare(`SELECT record_id AS id, collection FROM auth_events WHERE type = 'guest_deleted' ORDER BY collection`).all();
    expect(events).toEqual([{ id: removed[1], collection: 'customers' }, { id: removed[0], collection: 'users' }]);
  });
});

describe('--dry-run', () => {
  it('changes nothing and reports exactly what a real run then removes', async () => {
    const { stale } = staleMix(t.shop);
    const before = count(t.shop.db, 'SELECT * FROM accounts') + count(t.shop.db, 'SELECT * FROM auth_events');
    const dry = await runCleanup(t.dataDir, { dryRun: true });
    expect(count(t.shop.db, 'SELECT * FROM accounts') + count(t.shop.db, 'SELECT * FROM auth_events')).toBe(before);
    expect(sessionsOf(t.shop, stale)).toBe(1);
    expect(exists(t.shop.db, 'orders', 'account_id', stale)).toBe(true);
    const real = await runCleanup(t.dataDir, {});
    expect({ ...dry, seconds: 0 }).toEqual({ ...real, dryRun: true, cutoff: dry.cutoff, seconds: 0 });
    expect(dry).toMatchObject({ dryRun: true, deleted: 2, sessionsRemoved: 1, ordersDetached: 1 });
  });
});

describe('--bounced-after', () => {
  it('removes sooner the guests that never came back and own nothing', async () => {
    const bounced = t.shop.guest(3);
    const cameBack = t.shop.guest(3, { activeDaysAgo: 2.5 });
    const withCart = t.shop.guest(3);
    t.shop.cart(withCart);
    const withNote = t.shop.guest(3);
    t.shop.note(withNote);
    const withOrder = t.shop.guest(3);
    t.shop.order(withOrder);
    const tooRecent = t.shop.guest(0.5);
    const stale = t.shop.guest(40, { activeDaysAgo: 35 });
    const summary = await runCleanup(t.dataDir, { bouncedCutoff: Date.now() - 86_400_000 });
    expect(summary.deleted).toBe(2);
    expect(exists(t.shop.db, 'accounts', 'id', bounced)).toBe(false);
    expect(exists(t.shop.db, 'accounts', 'id', stale)).toBe(false);
    for (const id of [cameBack, withCart, withNote, withOrder, tooRecent]) expect(isGuest(t.shop, id)).toBe(true);
    const reasons = t.shop.db.prepare(`SELECT record_id AS id, detail FROM auth_events WHERE type = 'guest_deleted' ORDER BY detail`).all();
    expect(reasons).toEqual([{ id: bounced, detail: '{"reason":"bounced"}' }, { id: stale, detail: '{"reason":"stale"}' }]);
  });

  it('counts each guest once in a dry run, even when it is both stale and bounced', async () => {
    t.shop.guest(40);
    t.shop.guest(3);
    const summary = await runCleanup(t.dataDir, { dryRun: true, bouncedCutoff: Date.now() - 86_400_000 });
    expect(summary.deleted).toBe(2);
  });
});

describe('changes while cleanup runs', () => {
  it('keeps a guest that comes back between the walk and the delete', async () => {
    const returning = t.shop.guest(40);
    const gone = t.shop.guest(40);
    t.shop.session(returning);
    const summary = await runCleanup(t.dataDir, {}, {
      onProgress(progress) {
        if (progress.kind === 'stale' && progress.done === 0 && progress.total > 0) t.shop.users.touch('users', returning, Date.now());
      },
    });
    expect(summary.collections.users).toEqual({ deleted: 1 });
    expect(isGuest(t.shop, returning)).toBe(true);
    expect(sessionsOf(t.shop, returning)).toBe(1);
    expect(exists(t.shop.db, 'accounts', 'id', gone)).toBe(false);
  });
});

describe('one cleanup at a time', () => {
  it('refuses a second run in the same data dir while the first holds the lock, naming its pid', async () => {
    t.shop.guest(40);
    const first = withCleanupLock(t.dataDir, () => runCleanup(t.dataDir, {}));
    await expect(withCleanupLock(t.dataDir, () => runCleanup(t.dataDir, {})))
      .rejects.toThrow(`another cleanup is running (pid ${process.pid})`);
    expect((await first).deleted).toBe(1);
    expect(fs.existsSync(`${t.dataDir}/cleanup.lock`)).toBe(false);
    await expect(withCleanupLock(t.dataDir, async () => 'second run')).resolves.toBe('second run');
  });

  it('takes over a lock left by a run that died', () => {
    fs.writeFileSync(`${t.dataDir}/cleanup.lock`, '2147483646\n');
    const lock = acquireCleanupLock(t.dataDir);
    expect(fs.readFileSync(lock.file, 'utf8').trim()).toBe(String(process.pid));
    lock.release();
    expect(fs.existsSync(lock.file)).toBe(false);
  });
});
