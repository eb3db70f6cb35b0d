/**
 * The unit of work, one contract for every backend: what a page render relies on. Queued writes
 * reach the database together, in order, at commit; an awaited write takes the queue with it; a
 * failure leaves nothing and keeps the queue; a discarded render leaves nothing at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewRecord } from '../../../src/auth/stores.ts';
import type { Write } from '../../../src/db/unit-of-work.ts';
import { backends, uniqueId, type Backend } from './backends.ts';

const guest = (id = uniqueId('guest')): NewRecord => ({
  id, email: `${id}@guest.invalid`, username: `guest_${id}`, name: null, passwordHash: 'secret-hash', isAnonymous: true, now: 1, metadata: {},
});
const TAKEN = `${uniqueId('taken')}@example.com`;
const registered = (email: string): NewRecord => ({
  id: uniqueId('user'), email, username: email, name: null, passwordHash: 'h', isAnonymous: false, now: 1, metadata: {},
});

describe.each(backends())('a unit of work on %s', (_name, open) => {
  let db: Backend;
  beforeAll(async () => {
    db = await open();
    await db.transactor.apply(db.records.insert('users', registered(TAKEN)));
  });
  afterAll(() => db?.close());

  /** A write that fails inside the transaction, after the writes before it were applied. */
  const failing = (): Write => db.records.insert('customers', registered(TAKEN));
  const exists = async (id: string) => (await db.records.find('users', id)) !== null;

  it('commits queued writes together, in the order they were made, and nothing before commit', async () => {
    const work = db.transactor.begin();
    const record = guest();
    work.defer(db.records.insert('users', record));
    // Needs the account row above: applied out of order, it would fail with AccountGoneError.
    work.defer(db.shop.carts.add(record.id, 'ember-mug', 1, 1));
    work.defer(db.events.record('guest_created', record.id, 'users'));
    expect(await exists(record.id)).toBe(false);
    await work.commit();
    expect(await exists(record.id)).toBe(true);
    expect(await db.shop.carts.lines(record.id)).toHaveLength(1);
    expect((await db.eventsOf(record.id)).map((event) => event.type)).toEqual(['guest_created']);
  });

  it('applies an awaited write together with the queue before it, and resolves to its result', async () => {
    const work = db.transactor.begin();
    const record = guest();
    work.defer(db.records.insert('users', record));
    expect(await work.run(db.records.replaceGuestSecret('users', record.id, 'new'))).toBe(true);
    expect((await db.records.find('users', record.id))?.passwordHash).toBe('new');
  });

  it('keeps nothing of a failed run, and queues its earlier writes again for the next commit', async () => {
    const work = db.transactor.begin();
    const record = guest();
    const beside = guest();
    work.defer(db.records.insert('users', record));
    work.defer(db.events.record('guest_created', record.id, 'users'));
    await expect(work.run(failing())).rejects.toMatchObject({ code: 'email_in_use' });
    await expect(work.run(db.records.insert('users', beside), failing())).rejects.toMatchObject({ code: 'email_in_use' });
    expect(await exists(record.id)).toBe(false);
    expect(await exists(beside.id)).toBe(false);

    await work.commit();
    expect(await exists(record.id)).toBe(true);
    expect(await db.eventsOf(record.id)).toHaveLength(1);
    expect(await exists(beside.id)).toBe(false);
  });

  it('keeps nothing of a failed commit', async () => {
    const work = db.transactor.begin();
    const record = guest();
    work.defer(db.records.insert('users', record));
    work.defer(failing());
    await expect(work.commit()).rejects.toMatchObject({ code: 'email_in_use' });
    expect(await exists(record.id)).toBe(false);
    work.discard();
  });

  it('applies runs one after another in the order asked, a failed one not stopping the next', async () => {
    const work = db.transactor.begin();
    const record = guest();
    // The first is still inside its transaction when the others are asked for: they must wait.
    const pause = db.pause(300);
    const first = work.run(db.records.insert('users', record), pause.write);
    await pause.reached;
    const second = work.run(db.records.replaceGuestSecret('users', record.id, 'second'));
    const third = work.run(failing());
    const fourth = work.run(db.records.replaceGuestSecret('users', record.id, 'fourth'));
    const committed = work.commit();
    expect(await Promise.allSettled([first, second, third, fourth, committed])).toMatchObject([
      { status: 'fulfilled' }, { status: 'fulfilled', value: true }, { status: 'rejected' }, { status: 'fulfilled', value: true }, { status: 'fulfilled' },
    ]);
    expect((await db.records.find('users', record.id))?.passwordHash).toBe('fourth');
  });

  it('leaves nothing when discarded, and runs none of its after-commit effects', async () => {
    const work = db.transactor.begin();
    const record = guest();
    let effects = 0;
    work.defer(db.records.insert('users', record));
    work.afterCommit(() => effects++);
    work.discard();
    await work.commit();
    expect(await exists(record.id)).toBe(false);
    expect(effects).toBe(0);
  });

  it('runs an after-commit effect once its writes are committed: never before, not on failure, once after', async () => {
    const work = db.transactor.begin();
    const record = guest();
    let effects = 0;
    work.defer(db.records.insert('users', record));
    work.afterCommit(() => effects++);
    expect(effects).toBe(0);
    await expect(work.run(failing())).rejects.toThrow();
    expect(effects).toBe(0);
    await work.commit();
    expect(effects).toBe(1);
    await work.commit();
    expect(effects).toBe(1);
  });

  it('applies a single write outside any render in a transaction of its own', async () => {
    const record = guest();
    await db.transactor.apply(db.records.insert('users', record));
    await expect(db.transactor.apply(failing())).rejects.toMatchObject({ code: 'email_in_use' });
    expect(await exists(record.id)).toBe(true);
  });

  it('leaves no transaction open after failures, and the next write still goes through', async () => {
    // More failures than the Postgres pool has connections: each must come back to the pool clean.
    for (let i = 0; i < 6; i++) await expect(db.transactor.apply(failing())).rejects.toThrow();
    const work = db.transactor.begin();
    work.defer(failing());
    await expect(work.commit()).rejects.toThrow();
    expect(await db.openTransactions()).toBe(0);
    const record = guest();
    await db.transactor.apply(db.records.insert('users', record));
    expect(await exists(record.id)).toBe(true);
  });
});
