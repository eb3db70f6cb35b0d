/**
 * The stores behind mailed links, one contract for every backend: account tokens (single
 * purpose, bound, single use, expiring, even when two redemptions race), guests' conversions
 * waiting for their link, and the account writes the links end in (verifying an address,
 * replacing a password only while it is the one the link was checked against).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError } from '../../../src/auth/errors.ts';
import type { NewAccountToken, NewRecord, PendingConversion } from '../../../src/auth/stores.ts';
import { AccountGoneError } from '../../../src/errors.ts';
import type { Write } from '../../../src/db/unit-of-work.ts';
import { backends, uniqueId, type Backend } from './backends.ts';

const codeOf = (error: unknown) => (error instanceof AuthError ? error.code : error);

const account = (isAnonymous = false, id = uniqueId('acct')): NewRecord => {
  const email = isAnonymous ? `${id}@guest.invalid` : `${id}@example.com`;
  return { id, email, username: email, name: null, passwordHash: isAnonymous ? 'guest-hash' : 'bcrypt-hash', isAnonymous, now: 1_000, metadata: {} };
};

describe.each(backends())('link stores on %s', (_name, open) => {
  let db: Backend;
  beforeAll(async () => { db = await open(); });
  afterAll(() => db?.close());

  const apply = <T>(write: Write<T>) => db.transactor.apply(write);

  async function newAccount(collection = 'users', isAnonymous = false): Promise<NewRecord> {
    const record = account(isAnonymous);
    await apply(db.records.insert(collection, record));
    return record;
  }

  function token(accountId: string, overrides: Partial<NewAccountToken> = {}): NewAccountToken {
    return { hash: uniqueId('hash'), purpose: 'password_reset', accountId, bound: 'fingerprint', expiresAt: 10_000, now: 2_000, ...overrides };
  }

  const expected = (t: NewAccountToken) => ({ purpose: t.purpose, accountId: t.accountId, bound: t.bound });

  describe('account tokens', () => {
    it('finds an issued token by its hash, unused, with its account\'s collection; an unknown hash is null', async () => {
      const owner = await newAccount('customers');
      const issued = token(owner.id, { purpose: 'sign_in_link', bound: owner.email });
      await apply(db.tokens.issue(issued));
      expect(await db.tokens.find(issued.hash)).toEqual({
        purpose: 'sign_in_link', accountId: owner.id, collection: 'customers', bound: owner.email, expiresAt: 10_000, usedAt: null,
      });
      expect(await db.tokens.find('no-such-hash')).toBeNull();
    });

    it('is redeemed once: the first consume returns the account and marks it used, the second fails with invalid_link', async () => {
      const owner = await newAccount();
      const issued = token(owner.id);
      await apply(db.tokens.issue(issued));
      expect(await apply(db.tokens.consume(issued.hash, expected(issued), 3_000))).toBe(owner.id);
      expect((await db.tokens.find(issued.hash))?.usedAt).toBe(3_000);
      await expect(apply(db.tokens.consume(issued.hash, expected(issued), 3_001)).catch(codeOf)).resolves.toBe('invalid_link');
      expect((await db.tokens.find(issued.hash))?.usedAt).toBe(3_000);
    });

    it('matches nothing for another purpose, another account, another binding, or once expired, and stays unused', async () => {
      const owner = await newAccount();
      const other = await newAccount();
      const issued = token(owner.id, { expiresAt: 5_000 });
      await apply(db.tokens.issue(issued));
      const attempts = [
        { ...expected(issued), purpose: 'email_verification' as const },
        { ...expected(issued), accountId: other.id },
        { ...expected(issued), bound: 'the password changed since' },
      ];
      for (const attempt of attempts) {
        await expect(apply(db.tokens.consume(issued.hash, attempt, 3_000)).catch(codeOf), JSON.stringify(attempt)).resolves.toBe('invalid_link');
      }
      await expect(apply(db.tokens.consume(issued.hash, expected(issued), 5_000)).catch(codeOf)).resolves.toBe('invalid_link');
      expect((await db.tokens.find(issued.hash))?.usedAt).toBeNull();
      expect(await apply(db.tokens.consume(issued.hash, expected(issued), 4_999))).toBe(owner.id);
    });

    it('undoes what was to commit with a consume that matched nothing', async () => {
      const owner = await newAccount();
      const issued = token(owner.id);
      await apply(db.tokens.issue(issued));
      await apply(db.tokens.consume(issued.hash, expected(issued), 3_000));
      const work = db.transactor.begin();
      const outcome = await work.run(db.tokens.consume(issued.hash, expected(issued), 3_000),
        db.records.setPassword('users', owner.id, 'a second reset'), db.events.record('password_reset', owner.id, 'users')).then(() => 'ok', codeOf);
      work.discard();
      expect(outcome).toBe('invalid_link');
      expect((await db.records.find('users', owner.id))?.passwordHash).toBe('bcrypt-hash');
      expect(await db.eventsOf(owner.id)).toEqual([]);
    });

    // Two redemptions of one link at the same moment (two tabs, two app processes): the second
    // starts while the first is inside its transaction, the token marked but not committed.
    it('lets exactly one of two overlapping redemptions through', async () => {
      const owner = await newAccount();
      const issued = token(owner.id);
      await apply(db.tokens.issue(issued));
      const redeem = (...alongside: Write[]) => db.transactor.begin()
        .run(db.tokens.consume(issued.hash, expected(issued), 3_000), db.events.record('password_reset', owner.id, 'users'), ...alongside)
        .then(() => 'ok', codeOf);
      const pause = db.pause(300);
      const first = redeem(pause.write);
      await pause.reached;
      const second = redeem().finally(pause.release);
      expect([await first, await second]).toEqual(['ok', 'invalid_link']);
      expect((await db.eventsOf(owner.id)).map((event) => event.type)).toEqual(['password_reset']);
      expect(await db.openTransactions()).toBe(0);
    });

    it('drops the account\'s used and expired tokens of the same purpose when it issues one, and keeps the rest', async () => {
      const owner = await newAccount();
      const used = token(owner.id);
      const expired = token(owner.id, { expiresAt: 2_500 });
      const live = token(owner.id, { expiresAt: 50_000 });
      const otherPurpose = token(owner.id, { purpose: 'sign_in_link', expiresAt: 2_500 });
      for (const each of [used, expired, live, otherPurpose]) await apply(db.tokens.issue(each));
      await apply(db.tokens.consume(used.hash, expected(used), 2_100));
      await apply(db.tokens.issue(token(owner.id, { now: 3_000 })));
      expect(await db.tokens.find(used.hash)).toBeNull();
      expect(await db.tokens.find(expired.hash)).toBeNull();
      expect(await db.tokens.find(live.hash)).not.toBeNull();
      expect(await db.tokens.find(otherPurpose.hash)).not.toBeNull();
    });

    it('goes with its account, and cannot be issued for an account deleted meanwhile (AccountGoneError)', async () => {
      const owner = await newAccount('users', true);
      const issued = token(owner.id, { purpose: 'guest_resume' });
      await apply(db.tokens.issue(issued));
      await apply(db.records.delete(owner.id));
      expect(await db.tokens.find(issued.hash)).toBeNull();
      await expect(apply(db.tokens.issue(token(owner.id)))).rejects.toBeInstanceOf(AccountGoneError);
    });

    it('refuses a purpose it does not know (the schema\'s own check)', async () => {
      const owner = await newAccount();
      await expect(apply(db.tokens.issue(token(owner.id, { purpose: 'admin' as never })))).rejects.toThrow();
    });
  });

  describe('pending conversions', () => {
    const pending = (accountId: string, email = `${uniqueId('pending')}@example.com`): PendingConversion => ({
      accountId, email, emailForms: [email, email.toUpperCase()], name: 'Ada', passwordHash: 'bcrypt-of-new-password', createdAt: 4_000,
    });

    it('keeps one per guest: saved, read back with every field, replaced by the next, removed', async () => {
      const guest = await newAccount('customers', true);
      expect(await db.pendingConversions.find(guest.id)).toBeNull();
      const first = pending(guest.id);
      await apply(db.pendingConversions.save(first));
      expect(await db.pendingConversions.find(guest.id)).toEqual(first);
      const second = { ...pending(guest.id), name: null };
      await apply(db.pendingConversions.save(second));
      expect(await db.pendingConversions.find(guest.id)).toEqual(second);
      await apply(db.pendingConversions.remove(guest.id));
      expect(await db.pendingConversions.find(guest.id)).toBeNull();
    });

    it('goes with its guest, and cannot be saved for a guest deleted meanwhile (AccountGoneError)', async () => {
      const guest = await newAccount('users', true);
      await apply(db.pendingConversions.save(pending(guest.id)));
      await apply(db.records.delete(guest.id));
      expect(await db.pendingConversions.find(guest.id)).toBeNull();
      await expect(apply(db.pendingConversions.save(pending(guest.id)))).rejects.toBeInstanceOf(AccountGoneError);
    });
  });

  describe('the account writes links end in', () => {
    it('marks an address verified (email_verified_at, and verified kept equal), keeping the first time', async () => {
      const owner = await newAccount('customers');
      await apply(db.records.markEmailVerified('customers', owner.id, owner.email, 6_000));
      expect(await db.records.find('customers', owner.id)).toMatchObject({ verified: true, emailVerifiedAt: 6_000 });
      await apply(db.records.markEmailVerified('customers', owner.id, owner.email, 7_000));
      expect((await db.records.find('customers', owner.id))?.emailVerifiedAt).toBe(6_000);
    });

    it('verifies nothing for an address that is not the account\'s, nor for a guest (invalid_link)', async () => {
      const owner = await newAccount();
      const guest = await newAccount('users', true);
      await expect(apply(db.records.markEmailVerified('users', owner.id, 'someone-else@example.com', 6_000)).catch(codeOf)).resolves.toBe('invalid_link');
      await expect(apply(db.records.markEmailVerified('users', guest.id, guest.email, 6_000)).catch(codeOf)).resolves.toBe('invalid_link');
      expect(await db.records.find('users', owner.id)).toMatchObject({ verified: false, emailVerifiedAt: null });
    });

    it('replaces a guest\'s credential only while it is still the one named, else fails with stale_form', async () => {
      const guest = await newAccount('users', true);
      expect(await apply(db.records.replaceGuestSecret('users', guest.id, 'resumed', 'guest-hash'))).toBe(true);
      await expect(apply(db.records.replaceGuestSecret('users', guest.id, 'again', 'guest-hash')).catch(codeOf)).resolves.toBe('stale_form');
      expect((await db.records.find('users', guest.id))?.passwordHash).toBe('resumed');
      const owner = await newAccount();
      await expect(apply(db.records.replaceGuestSecret('users', owner.id, 'x', 'bcrypt-hash')).catch(codeOf)).resolves.toBe('stale_form');
    });

    it('replaces a password only while it is still the one named, else fails with stale_form', async () => {
      const owner = await newAccount();
      await apply(db.records.setPassword('users', owner.id, 'second', 'bcrypt-hash'));
      expect((await db.records.find('users', owner.id))?.passwordHash).toBe('second');
      await expect(apply(db.records.setPassword('users', owner.id, 'third', 'bcrypt-hash')).catch(codeOf)).resolves.toBe('stale_form');
      expect((await db.records.find('users', owner.id))?.passwordHash).toBe('second');
    });
  });
});
