import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { acquireCleanupLock, withCleanupLock } from '../../src/cleanup/lock.ts';
import type { CleanupWatch } from '../../src/cleanup/stale-guests.ts';
import { runCleanup, useShop } from './harness.ts';
import { cleanShop, cleanupBackends, useCleanupShop, type CleanupShop } from './shops.ts';

/** Two stale guests (one in `users` with a session and an order, one in `customers`) and a fresh one. */
async function staleMix(shop: CleanupShop): Promise<{ stale: string }> {
  const stale = await shop.guest(40);
  await shop.session(stale);
  await shop.order(stale);
  await shop.guest(35, { collection: 'customers' });
  await shop.guest(1);
  return { stale };
}

/** `n` of a thing, made one after another. */
async function times<T>(n: number, make: () => Promise<T>): Promise<T[]> {
  const made: T[] = [];
  for (let i = 0; i < n; i++) made.push(await make());
  return made;
}

describe.each(cleanupBackends())('cleanup on %s', (_backend, open) => {
  const t = useCleanupShop(open);
  const run = (options: Parameters<typeof cleanShop>[1], watch?: CleanupWatch) => cleanShop(t.shop, options, watch);

  describe('which accounts go', () => {
    it('removes guests idle longer than the cutoff and keeps guests active since', async () => {
      const stale = [await t.shop.guest(45), await t.shop.guest(31), await t.shop.guest(60, { activeDaysAgo: 40 })];
      const fresh = [await t.shop.guest(2), await t.shop.guest(29), await t.shop.guest(90, { activeDaysAgo: 1 })];
      const summary = await run({ olderThanDays: 30 });
      expect(summary.deleted).toBe(3);
      for (const id of stale) expect(await t.shop.exists('accounts', 'id', id)).toBe(false);
      for (const id of fresh) expect(await t.shop.isGuest(id)).toBe(true);
    });

    it('never removes registered accounts, however long idle', async () => {
      const accounts = [await t.shop.registered(400), await t.shop.registered(400, 'customers')];
      const summary = await run({ olderThanDays: 30 });
      expect(summary.deleted).toBe(0);
      expect(await t.shop.find('users', accounts[0]!)).not.toBeNull();
      expect(await t.shop.find('customers', accounts[1]!)).not.toBeNull();
    });

    it('honours a shorter cutoff such as 12 hours', async () => {
      const yesterday = await t.shop.guest(1);
      const justNow = await t.shop.guest(0.1);
      await run({ cutoff: Date.now() - 12 * 3_600_000 });
      expect(await t.shop.exists('accounts', 'id', yesterday)).toBe(false);
      expect(await t.shop.isGuest(justNow)).toBe(true);
    });

    it('cleans only the collections asked for, and reports each one', async () => {
      const user = await t.shop.guest(60);
      const customer = await t.shop.guest(60, { collection: 'customers' });
      const summary = await run({ collections: ['customers'] });
      expect(summary.collections).toEqual({ customers: { deleted: 1 } });
      expect(await t.shop.exists('accounts', 'id', customer)).toBe(false);
      expect(await t.shop.isGuest(user)).toBe(true);
    });

    it('works through many small batches and removes every stale guest', async () => {
      const stale = await times(53, () => t.shop.guest(40));
      const keep = await times(5, () => t.shop.guest(1));
      const seen: number[] = [];
      const summary = await run({ batchSize: 7 }, {
        onProgress: (progress) => { if (progress.kind === 'stale' && progress.collection === 'users') seen.push(progress.done); },
      });
      expect(summary.deleted).toBe(53);
      expect(seen).toEqual([0, 7, 14, 21, 28, 35, 42, 49, 53]);
      const left = await Promise.all(stale.map((id) => t.shop.exists('accounts', 'id', id)));
      expect(left.filter(Boolean)).toEqual([]);
      for (const id of keep) expect(await t.shop.isGuest(id)).toBe(true);
    });
  });

  describe('what goes with a removed guest', () => {
    it('removes its sessions, and keeps the sessions of everyone else', async () => {
      const stale = await t.shop.guest(40);
      const fresh = await t.shop.guest(1);
      const member = await t.shop.registered(400);
      await t.shop.session(stale);
      await t.shop.session(stale);
      await t.shop.session(fresh);
      await t.shop.session(member);
      const anonymous = await t.shop.session(null);
      const summary = await run({});
      expect(summary.sessionsRemoved).toBe(2);
      expect(await t.shop.sessionsOf(stale)).toBe(0);
      expect(await t.shop.sessionsOf(fresh)).toBe(1);
      expect(await t.shop.sessionsOf(member)).toBe(1);
      expect(await t.shop.sessionExists(anonymous)).toBe(true);
    });

    it('removes its cart and notes by cascade, and nobody else\'s', async () => {
      const stale = await t.shop.guest(40);
      const fresh = await t.shop.guest(1);
      for (const id of [stale, fresh]) {
        await t.shop.cart(id);
        await t.shop.note(id);
      }
      await run({});
      expect(await t.shop.exists('cart_items', 'account_id', stale)).toBe(false);
      expect(await t.shop.exists('notes', 'account_id', stale)).toBe(false);
      expect(await t.shop.exists('users', 'id', stale)).toBe(false);
      expect(await t.shop.exists('cart_items', 'account_id', fresh)).toBe(true);
      expect(await t.shop.exists('notes', 'account_id', fresh)).toBe(true);
    });

    it('keeps its orders, detached from it, with their contact and shipping snapshot and lines', async () => {
      const stale = await t.shop.guest(40);
      const orderId = await t.shop.order(stale);
      const summary = await run({});
      expect(summary.ordersDetached).toBe(1);
      const order = await t.shop.rows('SELECT account_id, name, address, city, postcode, total_cents FROM orders WHERE id = ?', orderId);
      expect(order).toEqual([{ account_id: null, name: 'Ada Guest', address: '1 Loop Lane', city: 'Leeds', postcode: 'LS1 1AA', total_cents: 2400 }]);
      expect(await t.shop.count('SELECT 1 FROM order_lines WHERE order_id = ?', orderId)).toBe(1);
    });

    it('writes one guest_deleted event per removed guest, with its collection', async () => {
      const removed = [await t.shop.guest(40), await t.shop.guest(50, { collection: 'customers' })];
      await t.shop.guest(1);
      await run({});
      const events = (await t.shop.deletions()).map(({ id, collection }) => ({ id, collection }));
      expect(events.sort((a, b) => a.collection.localeCompare(b.collection)))
        .toEqual([{ id: removed[1], collection: 'customers' }, { id: removed[0], collection: 'users' }]);
    });
  });

  describe('--dry-run', () => {
    it('changes nothing and reports exactly what a real run then removes', async () => {
      const { stale } = await staleMix(t.shop);
      const rows = async () => await t.shop.count('SELECT * FROM accounts') + await t.shop.count('SELECT * FROM auth_events');
      const before = await rows();
      const dry = await run({ dryRun: true });
      expect(await rows()).toBe(before);
      expect(await t.shop.sessionsOf(stale)).toBe(1);
      expect(await t.shop.exists('orders', 'account_id', stale)).toBe(true);
      const real = await run({});
      expect({ ...dry, seconds: 0 }).toEqual({ ...real, dryRun: true, cutoff: dry.cutoff, seconds: 0 });
      expect(dry).toMatchObject({ dryRun: true, deleted: 2, sessionsRemoved: 1, ordersDetached: 1 });
    });
  });

  describe('--bounced-after', () => {
    it('removes sooner the guests that never came back and own nothing', async () => {
      const bounced = await t.shop.guest(3);
      const cameBack = await t.shop.guest(3, { activeDaysAgo: 2.5 });
      const withCart = await t.shop.guest(3);
      await t.shop.cart(withCart);
      const withNote = await t.shop.guest(3);
      await t.shop.note(withNote);
      const withOrder = await t.shop.guest(3);
      await t.shop.order(withOrder);
      const tooRecent = await t.shop.guest(0.5);
      const stale = await t.shop.guest(40, { activeDaysAgo: 35 });
      // Every guest has a session: that is not data of its own.
      await t.shop.session(bounced);
      const summary = await run({ bouncedCutoff: Date.now() - 86_400_000 });
      expect(summary.deleted).toBe(2);
      expect(await t.shop.exists('accounts', 'id', bounced)).toBe(false);
      expect(await t.shop.exists('accounts', 'id', stale)).toBe(false);
      for (const id of [cameBack, withCart, withNote, withOrder, tooRecent]) expect(await t.shop.isGuest(id)).toBe(true);
      const reasons = (await t.shop.deletions()).map(({ id, detail }) => ({ id, detail }));
      expect(reasons).toEqual(expect.arrayContaining([{ id: bounced, detail: { reason: 'bounced' } }, { id: stale, detail: { reason: 'stale' } }]));
      expect(reasons).toHaveLength(2);
    });

    it('counts each guest once in a dry run, even when it is both stale and bounced', async () => {
      await t.shop.guest(40);
      await t.shop.guest(3);
      const summary = await run({ dryRun: true, bouncedCutoff: Date.now() - 86_400_000 });
      expect(summary.deleted).toBe(2);
    });
  });

  describe('changes while cleanup runs', () => {
    it('keeps a guest that comes back between the walk and the delete', async () => {
      const returning = await t.shop.guest(40);
      const gone = await t.shop.guest(40);
      await t.shop.session(returning);
      const summary = await run({}, {
        async onProgress(progress) {
          if (progress.kind === 'stale' && progress.done === 0 && progress.total > 0) await t.shop.touch('users', returning, Date.now());
        },
      });
      expect(summary.collections.users).toEqual({ deleted: 1 });
      expect(await t.shop.isGuest(returning)).toBe(true);
      expect(await t.shop.sessionsOf(returning)).toBe(1);
      expect(await t.shop.exists('accounts', 'id', gone)).toBe(false);
    });

    it('keeps a guest that signs up between the walk and the delete, with its session', async () => {
      const converting = await t.shop.guest(40);
      await t.shop.session(converting);
      const summary = await run({}, {
        async onProgress(progress) {
          if (progress.kind === 'stale' && progress.done === 0 && progress.total > 0) {
            await t.shop.convert('users', converting, `${converting.toLowerCase()}@example.com`);
          }
        },
      });
      expect(summary.deleted).toBe(0);
      expect(await t.shop.find('users', converting)).toMatchObject({ isAnonymous: false });
      expect(await t.shop.sessionsOf(converting)).toBe(1);
    });

    it('two cleanups at once remove each guest once, without an error, and their counts add up', async () => {
      const stale = await times(40, async () => {
        const id = await t.shop.guest(40);
        await t.shop.session(id);
        return id;
      });
      const [first, second] = await Promise.all([run({ batchSize: 7 }), run({ batchSize: 5 })]);
      expect(first.deleted + second.deleted).toBe(40);
      expect(first.sessionsRemoved + second.sessionsRemoved).toBe(40);
      const deleted = (await t.shop.deletions()).map((event) => event.id);
      expect(deleted.sort()).toEqual([...stale].sort());
    });
  });
});

describe('one cleanup at a time (SQLite: a lock file in DATA_DIR)', () => {
  const t = useShop();

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
