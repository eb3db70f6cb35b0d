import type { UnitOfWork, Write } from '../db/unit-of-work.ts';
import { validateAll } from '../errors.ts';
import { isStorableText } from '../plain-text.ts';
import { newRecordId } from './record-ids.ts';
import { normalizeEmail, storedForms } from './email-address.ts';
import { AuthError } from './errors.ts';
import { checkPassword, type PasswordHasher } from './passwords.ts';
import { findRegisteredByAddress, hasPassword, publicRecord, storedOf } from './records.ts';
import type { AccountStore, AuthRecord, EventLog, NewRecord, PendingConversion, PendingConversionStore, SessionIndex, StoredRecord } from './stores.ts';

export interface Credentials { email: string; password: string; name?: string }

/**
 * Writes to commit with an account's creation (its verification link and mail), made once its
 * id and address are known: they join the transaction that creates it, or fail with it.
 */
export type Alongside = (account: { id: string; collection: string; email: string }) => ReadonlyArray<Write<unknown>>;

/** What the app's features write when a guest merges into an account, or an account is deleted. */
export type MergeHandler = (guestId: string, userId: string) => ReadonlyArray<Write<unknown>>;
export type DeleteHandler = (accountId: string) => ReadonlyArray<Write<unknown>>;

export interface AccountHooks { merge: MergeHandler[]; delete: DeleteHandler[] }

/**
 * Registered accounts: conversion in place, registration, password sign-in, merge, password
 * change and deletion. Every write goes through the caller's unit of work; bcrypt runs before
 * the write, never inside a transaction.
 */
export interface Accounts {
  /**
   * Turns the signed-in guest into a registered account with the same id. A repeat of a
   * conversion that already succeeded (same email and password) returns the account.
   */
  convert(work: UnitOfWork, auth: AuthRecord | null, input: Credentials, alongside?: Alongside): Promise<AuthRecord>;
  /**
   * Keeps the guest's conversion until its address is verified (EMAIL_VERIFICATION=required):
   * checked and hashed now, stored as a pending conversion with `alongside` (the link and its
   * mail); the guest stays a guest. Asking again replaces it. Resolves to the address.
   */
  convertLater(work: UnitOfWork, auth: AuthRecord | null, input: Credentials, alongside: Alongside): Promise<string>;
  /**
   * The writes that make the guest the account its pending conversion describes (for the
   * transaction that uses its verification link): they fail with `email_in_use` when the
   * address was taken meanwhile, `not_anonymous` when the guest converted some other way.
   */
  conversionWrites(guest: AuthRecord, pending: PendingConversion): ReadonlyArray<Write<unknown>>;
  /** A new account in `users`; a guest registering is converted instead, keeping their id. */
  register(work: UnitOfWork, auth: AuthRecord | null, input: Credentials, alongside?: Alongside): Promise<AuthRecord>;
  /** The registered account these credentials open; guests' random credentials never match. */
  verifyLogin(work: UnitOfWork, email: unknown, password: unknown): Promise<AuthRecord>;
  /** Hands a guest's work to the account they signed in to, then deletes the guest: one transaction. */
  merge(work: UnitOfWork, guest: AuthRecord, user: AuthRecord): Promise<void>;
  /** The writes of `merge`, for a transaction that does more (the link that signed the guest in, used up). */
  mergeWrites(guest: AuthRecord, user: { id: string }): ReadonlyArray<Write<unknown>>;
  changePassword(work: UnitOfWork, auth: AuthRecord, current: unknown, next: unknown): Promise<void>;
  /** Deletes a registered account after checking its password, with every session it has. */
  deleteAccount(work: UnitOfWork, auth: AuthRecord, password: unknown): Promise<void>;
}

/** Applies `writes` now, in one transaction, in this order. */
async function runInOrder(work: UnitOfWork, writes: ReadonlyArray<Write<unknown>>): Promise<void> {
  const [first, ...rest] = writes;
  if (first) await work.run(first, ...rest);
}

function normalizeName(raw: unknown): string | null {
  const name = typeof raw === 'string' ? raw.trim() : '';
  if ([...name].length > 100 || !isStorableText(name)) throw new AuthError('invalid_name');
  return name || null;
}

function passwordOf(raw: unknown): string {
  const password = typeof raw === 'string' ? raw : '';
  checkPassword(password);
  return password;
}

/** The fields of a sign-up or conversion form, every problem reported at once. */
function parseCredentials(input: Credentials) {
  return validateAll({
    email: () => normalizeEmail(input.email),
    password: () => passwordOf(input.password),
    name: () => normalizeName(input.name),
  });
}

export function createAccounts(deps: {
  records: AccountStore; events: EventLog; passwords: PasswordHasher; sessions: SessionIndex;
  pending: PendingConversionStore; hooks: AccountHooks; now(): number;
}): Accounts {
  const { records, events, passwords, sessions, pending, hooks, now } = deps;
  const none: Alongside = () => [];
  let dummyHash: Promise<string> | undefined;

  async function emailTaken(forms: readonly string[], exceptId?: string): Promise<boolean> {
    for (const form of forms) if (await records.emailTaken(form, exceptId)) return true;
    return false;
  }

  /**
   * The registered account a password sign-in names; an address that does not normalise names
   * none, nor does an account without a password (made through an identity provider).
   */
  async function findForLogin(raw: unknown): Promise<StoredRecord | null> {
    const found = await findRegisteredByAddress(records, raw);
    return found && hasPassword(found) ? found : null;
  }

  async function repeatOfConversion(record: AuthRecord, email: string, password: string): Promise<AuthRecord | null> {
    const stored = await records.find(record.collection, record.id);
    const repeated = !!stored && !stored.isAnonymous && stored.email === email && await passwords.verify(password, stored.passwordHash);
    return repeated ? publicRecord(stored) : null;
  }

  /** The signed-in registered account, re-read with its hash, and whether `password` is its password. */
  async function checkOwnPassword(auth: AuthRecord, password: unknown): Promise<boolean> {
    const stored = await records.find(auth.collection, auth.id);
    if (!stored || stored.isAnonymous) throw new AuthError('not_signed_in');
    return hasPassword(stored) && passwords.verify(typeof password === 'string' ? password : '', stored.passwordHash);
  }

  /** A new account's fields: parsed, the address free in every stored form (but for `exceptId`'s), the password hashed. */
  async function claim(exceptId: string | undefined, fields: ReturnType<typeof parseCredentials>, rawEmail: unknown) {
    const emailForms = storedForms(rawEmail);
    if (await emailTaken(emailForms, exceptId)) throw new AuthError('email_in_use');
    return { ...fields, emailForms, passwordHash: await passwords.hash(fields.password) };
  }

  const accounts: Accounts = {
    async convert(work, auth, input, alongside = none) {
      if (!auth) throw new AuthError('not_signed_in');
      const fields = parseCredentials(input);
      if (!auth.isAnonymous) {
        const repeated = await repeatOfConversion(auth, fields.email, fields.password);
        if (repeated) return repeated;
        throw new AuthError('not_anonymous');
      }
      const { email, password, name, emailForms, passwordHash } = await claim(auth.id, fields, input.email);
      const claimedAt = now();
      try {
        // The promotion re-checks the email and is guarded on `is_anonymous = 1`, inside its transaction.
        await work.run(records.promote(auth.collection, auth.id, { email, emailForms, name, passwordHash, now: claimedAt }),
          events.record('guest_converted', auth.id, auth.collection, { method: 'password' }), ...alongside({ id: auth.id, collection: auth.collection, email }));
      } catch (error) {
        if (!(error instanceof AuthError) || error.code !== 'not_anonymous') throw error;
        // Converted meanwhile (a double click, another tab): the same email and password is a repeat.
        if (!await records.find(auth.collection, auth.id)) throw new AuthError('not_signed_in');
        const repeated = await repeatOfConversion(auth, email, password);
        if (repeated) return repeated;
        throw error;
      }
      return { ...auth, email, username: email, name, isAnonymous: false, claimedAt, lastActiveAt: claimedAt };
    },

    async convertLater(work, auth, input, alongside) {
      if (!auth) throw new AuthError('not_signed_in');
      if (!auth.isAnonymous) throw new AuthError('not_anonymous');
      const { email, emailForms, name, passwordHash } = await claim(auth.id, parseCredentials(input), input.email);
      await work.run(pending.save({ accountId: auth.id, email, emailForms, name, passwordHash, createdAt: now() }),
        ...alongside({ id: auth.id, collection: auth.collection, email }));
      return email;
    },

    conversionWrites(guest, { email, emailForms, name, passwordHash }) {
      // The promotion re-checks the address and that the record is still a guest, in the transaction.
      return [records.promote(guest.collection, guest.id, { email, emailForms, name, passwordHash, now: now() }),
        pending.remove(guest.id), events.record('guest_converted', guest.id, guest.collection)];
    },

    async register(work, auth, input, alongside = none) {
      if (auth?.isAnonymous) return accounts.convert(work, auth, input, alongside);
      if (auth) throw new AuthError('already_signed_in');
      const { email, name, emailForms, passwordHash } = await claim(undefined, parseCredentials(input), input.email);
      const madeAt = now();
      const record: NewRecord = {
        id: newRecordId(madeAt), email, emailForms, username: email, name, passwordHash, isAnonymous: false, now: madeAt, metadata: {},
      };
      // The insert re-checks the email inside its transaction: two racing sign-ups get one account.
      await work.run(records.insert('users', record), events.record('registered', record.id, 'users'),
        ...alongside({ id: record.id, collection: 'users', email }));
      return publicRecord(storedOf('users', record));
    },

    async verifyLogin(work, rawEmail, rawPassword) {
      // Unknown emails, and ones that are not addresses at all, still cost one bcrypt comparison
      // and answer invalid_credentials: neither timing nor the message tells which emails exist.
      dummyHash ??= passwords.hash('not-a-real-password');
      const password = typeof rawPassword === 'string' ? rawPassword : '';
      const found = await findForLogin(rawEmail);
      const hash = found?.passwordHash ?? await dummyHash;
      const matches = Buffer.byteLength(password) <= 72 && await passwords.verify(password, hash);
      if (!found || !matches) {
        work.defer(events.record('login_failed', found?.id ?? null, found?.collection ?? null));
        throw new AuthError('invalid_credentials');
      }
      return publicRecord(found);
    },

    merge: (work, guest, user) => runInOrder(work, accounts.mergeWrites(guest, user)),

    // The guest's rows move first: deleting the guest would cascade to them.
    mergeWrites: (guest, user) => [
      ...hooks.merge.flatMap((handler) => handler(guest.id, user.id)),
      records.delete(guest.id),
      events.record('guest_merged', guest.id, guest.collection, { into: user.id }),
    ],

    async changePassword(work, auth, current, next) {
      const verified = await checkOwnPassword(auth, current);
      const { password } = validateAll({
        current: () => { if (!verified) throw new AuthError('invalid_credentials'); },
        password: () => passwordOf(next),
      });
      const passwordHash = await passwords.hash(password);
      await work.run(records.setPassword(auth.collection, auth.id, passwordHash),
        events.record('password_changed', auth.id, auth.collection));
      await sessions.deleteForAccount(auth.id); // sign out every other device
    },

    async deleteAccount(work, auth, password) {
      if (!await checkOwnPassword(auth, password)) throw new AuthError('invalid_credentials');
      await runInOrder(work, [
        ...hooks.delete.flatMap((handler) => handler(auth.id)),
        records.delete(auth.id),
        events.record('account_deleted', auth.id, auth.collection),
      ]);
      await sessions.deleteForAccount(auth.id);
    },
  };
  return accounts;
}
