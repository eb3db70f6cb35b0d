import type { Db } from '../db/open.ts';
import { validateAll } from '../errors.ts';
import { newRecordId } from './credentials.ts';
import { normalizeEmail, storedForms } from './email-address.ts';
import { AuthError } from './errors.ts';
import type { EventLog } from './events.ts';
import { checkPassword, type PasswordHasher } from './passwords.ts';
import type { SessionIndex } from './session-index.ts';
import { publicRecord, type AuthRecord, type StoredRecord, type UserStore } from './user-store.ts';

export interface Credentials { email: string; password: string; name?: string }

/** Runs inside the transaction that merges or deletes an account: move or scrub the app's rows. */
export type MergeHandler = (guestId: string, userId: string) => void;
export type DeleteHandler = (accountId: string) => void;

export interface AccountHooks { merge: MergeHandler[]; delete: DeleteHandler[] }

export type Accounts = ReturnType<typeof createAccounts>;

function normalizeName(raw: unknown): string | null {
  const name = typeof raw === 'string' ? raw.trim() : '';
  if ([...name].length > 100) throw new AuthError('invalid_name');
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
  db: Db; users: UserStore; events: EventLog; passwords: PasswordHasher; sessions: SessionIndex;
  hooks: AccountHooks; now(): number;
}) {
  const { db, users, events, passwords, sessions, hooks, now } = deps;
  let dummyHash: Promise<string> | undefined;

  function emailTaken(forms: string[], exceptId?: string): boolean {
    return forms.some((form) => users.emailTaken(form, exceptId));
  }

  /** The registered account a sign-in names; an address that does not normalise names none. */
  function findForLogin(raw: unknown): StoredRecord | null {
    for (const form of storedForms(raw)) {
      const found = users.findRegisteredByEmail(form);
      if (found) return found;
    }
    return null;
  }

  async function repeatOfConversion(record: AuthRecord, email: string, password: string): Promise<boolean> {
    const stored = users.find(record.collection, record.id);
    return !!stored && !stored.isAnonymous && stored.email === email
      && await passwords.verify(password, stored.passwordHash);
  }

  const accounts = {
    /**
     * Turns the signed-in guest into a registered account with the same id. A repeat of a
     * conversion that already succeeded (same email and password) returns the account.
     */
    async convert(auth: AuthRecord | null, input: Credentials): Promise<AuthRecord> {
      if (!auth) throw new AuthError('not_signed_in');
      const { email, password, name } = parseCredentials(input);
      const forms = storedForms(input.email);
      if (!auth.isAnonymous) {
        if (await repeatOfConversion(auth, email, password)) return auth;
        throw new AuthError('not_anonymous');
      }
      if (emailTaken(forms, auth.id)) throw new AuthError('email_in_use');
      const hash = await passwords.hash(password);
      // The hash was awaited, so re-check inside the write transaction; the guarded UPDATE
      // makes a concurrent conversion of the same guest change nothing.
      const converted = db.transaction(() => {
        if (emailTaken(forms, auth.id)) throw new AuthError('email_in_use');
        if (!users.promote(auth.collection, auth.id, email, name, hash, now())) return false;
        events.record('guest_converted', auth.id, auth.collection);
        return true;
      }).immediate();
      if (!converted) {
        if (!users.find(auth.collection, auth.id)) throw new AuthError('not_signed_in');
        if (await repeatOfConversion(auth, email, password)) return publicRecord(users.find(auth.collection, auth.id)!);
        throw new AuthError('not_anonymous');
      }
      return publicRecord(users.find(auth.collection, auth.id)!);
    },

    /** A new account in `users`; a guest registering is converted instead, keeping their id. */
    async register(auth: AuthRecord | null, input: Credentials): Promise<AuthRecord> {
      if (auth?.isAnonymous) return accounts.convert(auth, input);
      if (auth) throw new AuthError('already_signed_in');
      const { email, password, name } = parseCredentials(input);
      const forms = storedForms(input.email);
      if (emailTaken(forms)) throw new AuthError('email_in_use');
      const hash = await passwords.hash(password);
      const id = newRecordId();
      db.transaction(() => {
        if (emailTaken(forms)) throw new AuthError('email_in_use');
        users.insertRegistered('users', { id, email, name, passwordHash: hash, now: now() });
        events.record('registered', id, 'users');
      }).immediate();
      return publicRecord(users.find('users', id)!);
    },

    /** The registered account these credentials open; guests' random credentials never match. */
    async verifyLogin(rawEmail: unknown, rawPassword: unknown): Promise<AuthRecord> {
      // Unknown emails, and ones that are not addresses at all, still cost one bcrypt comparison
      // and answer invalid_credentials: neither timing nor the message tells which emails exist.
      dummyHash ??= passwords.hash('not-a-real-password');
      const password = typeof rawPassword === 'string' ? rawPassword : '';
      const found = findForLogin(rawEmail);
      const hash = found?.passwordHash ?? await dummyHash;
      const matches = Buffer.byteLength(password) <= 72 && await passwords.verify(password, hash);
      if (!found || !matches) {
        events.record('login_failed', found?.id ?? null, found?.collection ?? null);
        throw new AuthError('invalid_credentials');
      }
      return publicRecord(found);
    },

    /** Hands a guest's work to the account they signed in to, then deletes the guest: one transaction. */
    merge(guest: AuthRecord, user: AuthRecord): void {
      db.transaction(() => {
        for (const handler of hooks.merge) handler(guest.id, user.id);
        users.delete(guest.id);
        events.record('guest_merged', guest.id, guest.collection, { into: user.id });
      }).immediate();
    },

    async changePassword(auth: AuthRecord, current: unknown, next: unknown): Promise<void> {
      const stored = users.find(auth.collection, auth.id);
      if (!stored || stored.isAnonymous) throw new AuthError('not_signed_in');
      const verified = await passwords.verify(typeof current === 'string' ? current : '', stored.passwordHash);
      const { password } = validateAll({
        current: () => { if (!verified) throw new AuthError('invalid_credentials'); },
        password: () => passwordOf(next),
      });
      users.setPassword(auth.collection, auth.id, await passwords.hash(password));
      events.record('password_changed', auth.id, auth.collection);
      await sessions.deleteForAccount(auth.id); // sign out every other device
    },

    /** Deletes a registered account after checking its password, with every session it has. */
    async deleteAccount(auth: AuthRecord, password: unknown): Promise<void> {
      const stored = users.find(auth.collection, auth.id);
      if (!stored || stored.isAnonymous) throw new AuthError('not_signed_in');
      if (!await passwords.verify(typeof password === 'string' ? password : '', stored.passwordHash)) {
        throw new AuthError('invalid_credentials');
      }
      db.transaction(() => {
        for (const handler of hooks.delete) handler(auth.id);
        users.delete(auth.id);
        events.record('account_deleted', auth.id, auth.collection);
      }).immediate();
      await sessions.deleteForAccount(auth.id);
    },
  };
  return accounts;
}
