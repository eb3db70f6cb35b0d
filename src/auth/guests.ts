import type { UnitOfWork, Write } from '../db/unit-of-work.ts';
import { derivedGuestCredentials, guestEmail, guestSecretMatches, hashGuestSecret, newGuestCredentials, newGuestSecret } from './credentials.ts';
import { publicRecord, storedOf } from './records.ts';
import type { AccountStore, AuthRecord, NewRecord } from './stores.ts';

/**
 * A resume token is `<collection>.<id>.<secret>`: it names the record to look up and carries
 * the secret whose hash must match. It lives in the guest's HttpOnly resume cookie.
 */
export interface GuestSession { record: AuthRecord; token: string }

export interface Guests {
  /**
   * A new guest, made in-process and returned at once; its write (the record and its
   * `guest_created` event) is queued on `work`. Its id and credential are random, or derived from
   * `seed` (see racing-guests.ts): every request with that seed makes this same guest, once.
   */
  create(work: UnitOfWork, collection: string, options?: { metadata?: object; seed?: string }): GuestSession;
  /** The guest a resume token names, or null when it is malformed, stale, converted or deleted. */
  resume(token: string): Promise<AuthRecord | null>;
  /** A fresh token for a guest whose browser no longer holds one (the old one stops working). */
  reissue(work: UnitOfWork, record: AuthRecord): string;
  /**
   * A fresh token, and the write that makes it the guest's credential in place of `replacing`
   * (failing with `stale_form` if that is no longer the one), for a transaction that does more.
   */
  rekey(record: AuthRecord, replacing: string): { token: string; write: Write<boolean> };
}

export function createGuests(deps: { accounts: AccountStore; now(): number; secret: string }): Guests {
  const { accounts, now, secret: serverSecret } = deps;
  const tokenFor = (collection: string, id: string, secret: string) => `${collection}.${id}.${secret}`;

  return {
    create(work, collection, { metadata = {}, seed } = {}) {
      const madeAt = now();
      const { id, secret } = seed === undefined ? newGuestCredentials(madeAt) : derivedGuestCredentials(serverSecret, `${collection}:${seed}`);
      const record: NewRecord = {
        id, email: guestEmail(id), username: `guest_${id}`, name: null, passwordHash: hashGuestSecret(secret),
        isAnonymous: true, now: madeAt, metadata,
      };
      work.defer(accounts.insertGuest(collection, record));
      return { record: publicRecord(storedOf(collection, record)), token: tokenFor(collection, id, secret) };
    },

    async resume(token) {
      const [collection, id, secret, extra] = token.split('.');
      if (!collection || !id || !secret || extra !== undefined || !accounts.has(collection)) return null;
      const record = await accounts.find(collection, id);
      if (!record?.isAnonymous || !guestSecretMatches(secret, record.passwordHash)) return null;
      return publicRecord(record);
    },

    reissue(work, record) {
      const secret = newGuestSecret();
      work.defer(accounts.replaceGuestSecret(record.collection, record.id, hashGuestSecret(secret)));
      return tokenFor(record.collection, record.id, secret);
    },

    rekey(record, replacing) {
      const secret = newGuestSecret();
      const write = accounts.replaceGuestSecret(record.collection, record.id, hashGuestSecret(secret), replacing);
      return { token: tokenFor(record.collection, record.id, secret), write };
    },
  };
}
