/**
 * The identities store, one contract for every backend: what signing in through an identity
 * provider relies on (issue 16), checked on SQLite and on a real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LinkedIdentity, NewRecord } from '../../../src/auth/stores.ts';
import type { Write } from '../../../src/db/unit-of-work.ts';
import { AccountGoneError, AppError } from '../../../src/errors.ts';
import { backends, uniqueId, type Backend } from './backends.ts';

const account = (id = uniqueId('user')): NewRecord => ({
  id, email: `${id}@example.com`, username: `${id}@example.com`, name: null, passwordHash: '',
  isAnonymous: false, now: 1_000, metadata: {},
});
const identity = (accountId: string, changes: Partial<LinkedIdentity> = {}): LinkedIdentity => ({
  provider: 'acme', subject: uniqueId('sub'), accountId, email: 'ada@idp.example', emailVerified: true, linkedAt: 2_000, ...changes,
});

const codeOf = (error: unknown) => (error instanceof AppError ? error.code : error);

describe.each(backends())('identities on %s', (_name, open) => {
  let db: Backend;
  beforeAll(async () => { db = await open(); });
  afterAll(() => db?.close());

  const apply = <T>(write: Write<T>) => db.transactor.apply(write);
  async function newAccount(): Promise<string> {
    const record = account();
    await apply(db.records.insert('users', record));
    return record.id;
  }

  it('finds a linked identity by provider and subject, with every field', async () => {
    const id = await newAccount();
    const linked = identity(id);
    await apply(db.identities.link(linked));
    expect(await db.identities.find('acme', linked.subject)).toEqual(linked);
    expect(await db.identities.find('other', linked.subject)).toBeNull();
    expect(await db.identities.find('acme', 'nobody')).toBeNull();
  });

  it('lists an account\'s identities oldest first, and none of anybody else\'s', async () => {
    const id = await newAccount();
    const later = identity(id, { provider: 'google', linkedAt: 5_000, email: null, emailVerified: false });
    const earlier = identity(id, { linkedAt: 3_000 });
    await apply(db.identities.link(later));
    await apply(db.identities.link(earlier));
    await apply(db.identities.link(identity(await newAccount())));
    expect(await db.identities.listFor(id)).toEqual([earlier, later]);
  });

  it('refuses a provider account linked already, to this account or another, with identity_in_use; the first link stays', async () => {
    const [first, second] = [await newAccount(), await newAccount()];
    const linked = identity(first);
    await apply(db.identities.link(linked));
    await expect(apply(db.identities.link({ ...linked, accountId: second })).catch(codeOf)).resolves.toBe('identity_in_use');
    await expect(apply(db.identities.link({ ...linked, linkedAt: 9_000 })).catch(codeOf)).resolves.toBe('identity_in_use');
    expect(await db.identities.find('acme', linked.subject)).toEqual(linked);
  });

  it('gives one subject at two providers two identities: a subject is unique within its provider only', async () => {
    const id = await newAccount();
    const subject = uniqueId('shared');
    await apply(db.identities.link(identity(id, { subject, provider: 'acme' })));
    await apply(db.identities.link(identity(id, { subject, provider: 'google' })));
    expect((await db.identities.listFor(id)).map((each) => each.provider).sort()).toEqual(['acme', 'google']);
  });

  it('goes with its account: deleting the account deletes its identities', async () => {
    const id = await newAccount();
    const linked = identity(id);
    await apply(db.identities.link(linked));
    await apply(db.records.delete(id));
    expect(await db.identities.find('acme', linked.subject)).toBeNull();
  });

  it('fails with AccountGoneError when the account was deleted meanwhile (cleanup in another process)', async () => {
    const id = await newAccount();
    await apply(db.records.delete(id));
    await expect(apply(db.identities.link(identity(id)))).rejects.toBeInstanceOf(AccountGoneError);
  });

  describe('unlink', () => {
    const unlink = (...args: Parameters<Backend['identities']['unlink']>) => apply(db.identities.unlink(...args)).then(() => 'unlinked', codeOf);

    it('unlinks one of two identities of an account without a password', async () => {
      const id = await newAccount();
      const [one, two] = [identity(id), identity(id, { provider: 'google' })];
      await apply(db.identities.link(one));
      await apply(db.identities.link(two));
      expect(await unlink(id, 'acme', one.subject, false)).toBe('unlinked');
      expect(await db.identities.listFor(id)).toEqual([two]);
    });

    it('refuses the only identity of an account without a password (last_sign_in_method), and unlinks it when the account has one', async () => {
      const id = await newAccount();
      const only = identity(id);
      await apply(db.identities.link(only));
      expect(await unlink(id, 'acme', only.subject, false)).toBe('last_sign_in_method');
      expect(await db.identities.listFor(id)).toEqual([only]);
      expect(await unlink(id, 'acme', only.subject, true)).toBe('unlinked');
      expect(await db.identities.listFor(id)).toEqual([]);
    });

    it('leaves another account\'s identity alone (not_linked)', async () => {
      const [owner, other] = [await newAccount(), await newAccount()];
      const linked = identity(owner);
      await apply(db.identities.link(linked));
      expect(await unlink(other, 'acme', linked.subject, true)).toBe('not_linked');
      expect(await unlink(owner, 'acme', 'nobody', true)).toBe('not_linked');
      expect(await db.identities.find('acme', linked.subject)).toEqual(linked);
    });

    it('commits nothing that was to go with a refused unlink (its audit event)', async () => {
      const id = await newAccount();
      const only = identity(id);
      await apply(db.identities.link(only));
      const refused = db.transactor.begin().run(db.identities.unlink(id, 'acme', only.subject, false), db.events.record('identity_unlinked', id, 'users'));
      await expect(refused.catch(codeOf)).resolves.toBe('last_sign_in_method');
      expect(await db.eventsOf(id)).toEqual([]);
    });

    // On PostgreSQL the second unlink really overlaps the first (paused, open, having deleted
    // its row): it must wait for it and then find only one identity left.
    it('keeps one of the last two identities when two unlinks race: the second is refused', async () => {
      const id = await newAccount();
      const [one, two] = [identity(id), identity(id, { provider: 'google' })];
      await apply(db.identities.link(one));
      await apply(db.identities.link(two));
      const pause = db.pause(300);
      const first = db.transactor.begin().run(db.identities.unlink(id, 'acme', one.subject, false), pause.write).then(() => 'unlinked', codeOf);
      await pause.reached;
      const second = unlink(id, 'google', two.subject, false).finally(pause.release);
      expect([await first, await second]).toEqual(['unlinked', 'last_sign_in_method']);
      expect(await db.identities.listFor(id)).toEqual([two]);
      expect(await db.openTransactions()).toBe(0);
    });
  });
});
