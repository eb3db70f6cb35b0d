/**
 * The account store and the audit trail, one contract for every backend: what sign-up,
 * conversion, sign-in and cleanup rely on, checked on SQLite and on a real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError } from '../../../src/auth/errors.ts';
import type { NewRecord } from '../../../src/auth/stores.ts';
import type { Write } from '../../../src/db/unit-of-work.ts';
import { backends, uniqueId, type Backend } from './backends.ts';

const guest = (id = uniqueId('guest')): NewRecord => ({
  id, email: `${id}@guest.invalid`, username: `guest_${id}`, name: null, passwordHash: 'guest-secret-hash',
  isAnonymous: true, now: 1_000, metadata: { source: 'test' },
});
const registered = (email = `${uniqueId('ada')}@example.com`, id = uniqueId('user')): NewRecord => ({
  id, email, username: email, name: 'Ada', passwordHash: 'bcrypt-hash', isAnonymous: false, now: 2_000, metadata: {},
});
const promotion = (email = `${uniqueId('grace')}@example.com`) => ({ email, name: 'Grace', passwordHash: 'new-bcrypt-hash', now: 5_000 });

const codeOf = (error: unknown) => (error instanceof AuthError ? error.code : error);

describe.each(backends())('accounts on %s', (_name, open) => {
  let db: Backend;
  let clock = 10_000;
  beforeAll(async () => { db = await open(() => clock); });
  afterAll(() => db?.close());

  const apply = <T>(write: Write<T>) => db.transactor.apply(write);

  it('reads a new guest back with every field, its metadata and no claim', async () => {
    const record = guest();
    await apply(db.records.insert('users', record));
    expect(await db.records.find('users', record.id)).toEqual({
      id: record.id, collection: 'users', email: record.email, username: record.username, name: null, verified: false,
      emailVerifiedAt: null, isAnonymous: true, createdAt: 1_000, lastActiveAt: 1_000, claimedAt: null, metadata: { source: 'test' },
      passwordHash: 'guest-secret-hash',
    });
    expect(await db.records.find('customers', record.id)).toBeNull();
  });

  describe('insertGuest: racing requests that derived the same guest', () => {
    it('inserts the guest with its guest_created event', async () => {
      const record = guest();
      await apply(db.records.insertGuest('customers', record));
      expect((await db.records.find('customers', record.id))?.isAnonymous).toBe(true);
      expect((await db.eventsOf(record.id)).map((event) => [event.type, event.collection])).toEqual([['guest_created', 'customers']]);
    });

    it('makes one guest, one event and one cart line when two units of work race with the same guest and cart line', async () => {
      const record = guest();
      const race = () => {
        const work = db.transactor.begin();
        work.defer(db.records.insertGuest('users', record));
        work.defer(db.shop.carts.add(record.id, 'candle', 1, 3_000));
        return work.commit();
      };
      await Promise.all([race(), race()]);
      expect((await db.eventsOf(record.id)).map((event) => event.type)).toEqual(['guest_created']);
      expect((await db.shop.carts.lines(record.id)).map((line) => [line.productId, line.quantity])).toEqual([['candle', 1]]);
      expect(await db.openTransactions()).toBe(0);
    });

    it('refuses with stale_form once the guest it would make has converted or had its credential replaced', async () => {
      const converted = guest();
      await apply(db.records.insertGuest('users', converted));
      await apply(db.records.promote('users', converted.id, promotion()));
      await expect(apply(db.records.insertGuest('users', converted)).catch(codeOf)).resolves.toBe('stale_form');
      const forgotten = guest();
      await apply(db.records.insertGuest('users', forgotten));
      await apply(db.records.replaceGuestSecret('users', forgotten.id, 'another-hash'));
      await expect(apply(db.records.insertGuest('users', forgotten)).catch(codeOf)).resolves.toBe('stale_form');
    });
  });

  it('treats a collection the config does not have as a bug, not as "not found"', async () => {
    await expect(db.records.find('members', 'x')).rejects.toThrow(/unknown auth collection "members"/);
    expect(db.records.has('members')).toBe(false);
    expect(db.records.has('customers')).toBe(true);
  });

  it('finds a registered account by email in any collection, whatever its case, and never a guest', async () => {
    const account = registered(`${uniqueId('mixed')}@example.com`);
    await apply(db.records.insert('customers', account));
    const aGuest = guest();
    await apply(db.records.insert('users', aGuest));
    expect((await db.records.findRegisteredByEmail(account.email.toUpperCase()))?.id).toBe(account.id);
    expect((await db.records.findRegisteredByEmail(account.email))?.collection).toBe('customers');
    expect(await db.records.findRegisteredByEmail(aGuest.email)).toBeNull();
    expect(await db.records.findRegisteredByEmail('nobody@example.com')).toBeNull();
  });

  it('says an email is taken by any record but the one excepted', async () => {
    const account = registered();
    await apply(db.records.insert('users', account));
    expect(await db.records.emailTaken(account.email)).toBe(true);
    expect(await db.records.emailTaken(account.email.toUpperCase())).toBe(true);
    expect(await db.records.emailTaken(account.email, account.id)).toBe(false);
    expect(await db.records.emailTaken(`${uniqueId('free')}@example.com`)).toBe(false);
  });

  it('refuses a sign-up with email_in_use when any collection has the address, or any of its stored forms', async () => {
    const first = registered();
    await apply(db.records.insert('users', first));
    await expect(apply(db.records.insert('customers', registered(first.email.toUpperCase())))).rejects.toMatchObject({ code: 'email_in_use' });
    const second = { ...registered(), emailForms: [`${uniqueId('canonical')}@example.com`, first.email] };
    await expect(apply(db.records.insert('users', second))).rejects.toMatchObject({ code: 'email_in_use' });
    expect(await db.records.find('users', second.id)).toBeNull();
  });

  // The second sign-up starts while the first is inside its transaction, inserted but not
  // committed: it must wait for the first and then see the address taken.
  it('gives two overlapping sign-ups with one email, in two collections, one account: the second gets email_in_use', async () => {
    const email = `${uniqueId('race')}@example.com`;
    const pause = db.pause(300);
    const first = db.transactor.begin().run(db.records.insert('users', registered(email)), pause.write).then(() => 'ok', codeOf);
    await pause.reached;
    const second = db.transactor.apply(db.records.insert('customers', registered(email))).then(() => 'ok', codeOf).finally(pause.release);
    expect([await first, await second]).toEqual(['ok', 'email_in_use']);
  });

  it('promotes a guest in place: same id, the new email as username, claimed and active at that time', async () => {
    const record = guest();
    await apply(db.records.insert('users', record));
    const to = promotion();
    await apply(db.records.promote('users', record.id, to));
    expect(await db.records.find('users', record.id)).toMatchObject({
      id: record.id, email: to.email, username: to.email, name: 'Grace', passwordHash: 'new-bcrypt-hash',
      isAnonymous: false, createdAt: 1_000, claimedAt: 5_000, lastActiveAt: 5_000,
    });
  });

  it('refuses to promote a registered account (not_anonymous) and a guest to a taken email (email_in_use)', async () => {
    const account = registered();
    await apply(db.records.insert('users', account));
    await expect(apply(db.records.promote('users', account.id, promotion()))).rejects.toMatchObject({ code: 'not_anonymous' });
    expect((await db.records.find('users', account.id))?.passwordHash).toBe('bcrypt-hash');

    const record = guest();
    await apply(db.records.insert('customers', record));
    await expect(apply(db.records.promote('customers', record.id, promotion(account.email)))).rejects.toMatchObject({ code: 'email_in_use' });
    expect((await db.records.find('customers', record.id))?.isAnonymous).toBe(true);
  });

  it('converts a guest once when two conversions overlap: the second fails with not_anonymous and its event is not kept', async () => {
    const record = guest();
    await apply(db.records.insert('users', record));
    const convert = (email: string, ...alongside: Write[]) => db.transactor.begin()
      .run(db.records.promote('users', record.id, promotion(email)), db.events.record('guest_converted', record.id, 'users', { email }), ...alongside)
      .then(() => 'ok', codeOf);
    const pause = db.pause(300);
    const winner = `${uniqueId('one')}@example.com`;
    const first = convert(winner, pause.write);
    await pause.reached;
    const second = convert(`${uniqueId('two')}@example.com`).finally(pause.release);
    expect([await first, await second]).toEqual(['ok', 'not_anonymous']);
    expect((await db.records.find('users', record.id))?.email).toBe(winner);
    expect((await db.eventsOf(record.id)).map((event) => event.detail)).toEqual([{ email: winner }]);
  });

  it('records activity with touch', async () => {
    const record = guest();
    await apply(db.records.insert('users', record));
    await apply(db.records.touch('users', record.id, 7_777));
    expect((await db.records.find('users', record.id))?.lastActiveAt).toBe(7_777);
  });

  it('replaces the credential of a guest only: a registered account keeps its password', async () => {
    const record = guest();
    const account = registered();
    await apply(db.records.insert('users', record));
    await apply(db.records.insert('users', account));
    expect(await apply(db.records.replaceGuestSecret('users', record.id, 'fresh-secret'))).toBe(true);
    expect((await db.records.find('users', record.id))?.passwordHash).toBe('fresh-secret');
    expect(await apply(db.records.replaceGuestSecret('users', account.id, 'fresh-secret'))).toBe(false);
    expect((await db.records.find('users', account.id))?.passwordHash).toBe('bcrypt-hash');
  });

  it('sets a password on a registered account only', async () => {
    const record = guest();
    const account = registered();
    await apply(db.records.insert('users', record));
    await apply(db.records.insert('users', account));
    await apply(db.records.setPassword('users', account.id, 'changed'));
    await apply(db.records.setPassword('users', record.id, 'changed'));
    expect((await db.records.find('users', account.id))?.passwordHash).toBe('changed');
    expect((await db.records.find('users', record.id))?.passwordHash).toBe('guest-secret-hash');
  });

  it('deletes a record once: true, then false', async () => {
    const record = guest();
    await apply(db.records.insert('customers', record));
    expect(await apply(db.records.delete(record.id))).toBe(true);
    expect(await db.records.find('customers', record.id)).toBeNull();
    expect(await apply(db.records.delete(record.id))).toBe(false);
  });

  it('lists every registered email by collection for the look-alike report, and no guest', async () => {
    const account = registered();
    const aGuest = guest();
    await apply(db.records.insert('customers', account));
    await apply(db.records.insert('customers', aGuest));
    const listed = [];
    for await (const entry of db.records.registeredEmails()) listed.push(entry);
    expect(listed).toContainEqual({ collection: 'customers', id: account.id, email: account.email });
    expect(listed.some((entry) => entry.id === aGuest.id)).toBe(false);
  });

  it('keeps audit events with their type, collection and detail, timed when recorded rather than when applied', async () => {
    const id = uniqueId('audited');
    clock = 42_000;
    const write = db.events.record('guest_merged', id, 'users', { into: 'someone' });
    clock = 99_000;
    await apply(write);
    await apply(db.events.record('login_failed', id, null));
    expect(await db.eventsOf(id)).toEqual([
      expect.objectContaining({ type: 'guest_merged', record_id: id, collection: 'users', created_at: 42_000, detail: { into: 'someone' } }),
      expect.objectContaining({ type: 'login_failed', collection: null, created_at: 99_000, detail: null }),
    ]);
  });
});
