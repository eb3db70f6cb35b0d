import type { UnitOfWork } from '../db/unit-of-work.ts';
import { guestEmail, guestSecretMatches, hashGuestSecret, newGuestSecret, newRecordId } from './credentials.ts';
import { publicRecord, storedOf } from './records.ts';
import type { AccountStore, AuthRecord, EventLog, NewRecord } from './stores.ts';

/**
 * A resume token is `<collection>.<id>.<secret>`: it names the record to look up and carries
 * the secret whose hash must match. It lives in the guest's HttpOnly resume cookie.
 */
export interface GuestSession { record: AuthRecord; token: string }

export interface Guests {
  /**
   * A new guest, made in-process (random id and credential) and returned at once; its writes
   * (the record, its `guest_created` event) are queued on `work`.
   */
  create(work: UnitOfWork, collection: string, metadata?: object): GuestSession;
  /** The guest a resume token names, or null when it is malformed, stale, converted or deleted. */
  resume(token: string): Promise<AuthRecord | null>;
  /** A fresh token for a guest whose browser no longer holds one (the old one stops working). */
  reissue(work: UnitOfWork, record: AuthRecord): string;
}

export function createGuests(deps: { accounts: AccountStore; events: EventLog; now(): number }): Guests {
  const { accounts, events, now } = deps;
  const tokenFor = (collection: string, id: string, secret: string) => `${collection}.${id}.${secret}`;

  return {
    create(work, collection, metadata = {}) {
      const id = newRecordId();
      const secret = newGuestSecret();
      const record: NewRecord = {
        id, email: guestEmail(id), username: `guest_${id}`, name: null, passwordHash: hashGuestSecret(secret),
        isAnonymous: true, now: now(), metadata,
      };
      work.defer(accounts.insert(collection, record));
      work.defer(events.record('guest_created', id, collection));
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
  };
}
